"""Scrubber edits on the diagnoses, from the Medicare Code Editor's lists: age, sex, manifestation codes.

The MCE's external-cause edit (V00-Y99 not principal) is `icd10.principal` (rules/diagnoses.py).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

from domain.claim import Sex
from domain.edit_tables import MCE_AGE_RANGES, MCE_SEXES, MceEditKind, age_on
from domain.validation.issues import Severity
from domain.validation.registry import Finding, MessageContext, Rule, RuleContext
from domain.validation.rules.scrubber import edit_tables


def _listed(ctx: RuleContext) -> Iterator[tuple[int, int, frozenset[MceEditKind]]]:
    """For each diagnosis (first listings only) and each service date of the lines it supports: (i, line, lists)."""
    tables = edit_tables(ctx)
    if tables is None:
        return
    lines = ctx.claim.lines
    for i, code in enumerate(ctx.claim.diagnosis_codes):
        if ctx.is_repeat(i):
            continue
        first_line_on: dict[date, int] = {}
        for li in ctx.pointing_lines[i]:
            first_line_on.setdefault(lines[li].service_date, li)
        if not first_line_on:
            first_line_on = {lines[0].service_date: 0}
        for on, li in first_line_on.items():
            kinds = tables.mce(code, on)
            if kinds:
                yield i, li, kinds


def mce_age(ctx: RuleContext) -> Iterator[Finding]:
    if ctx.dob_in_future:  # the date of birth's own rule reports it
        return
    born = ctx.claim.patient.date_of_birth
    reported: set[int] = set()
    for i, li, kinds in _listed(ctx):
        age = age_on(born, ctx.claim.lines[li].service_date)
        for kind, (low, high) in MCE_AGE_RANGES.items():
            if kind in kinds and not low <= age <= high and i not in reported:
                reported.add(i)
                yield f"diagnosis_codes[{i}]", {"edit": kind.value, "line": str(li), "low": str(low), "high": str(high)}


def _age_message(m: MessageContext) -> str:
    line = m.params.get("line", "0")
    born, on = m.at("patient.date_of_birth"), m.at(f"lines[{line}].service_date")
    age = f"{age_on(born, on)}" if isinstance(born, date) and isinstance(on, date) else "outside that range"
    low, high = m.params.get("low", "?"), m.params.get("high", "?")
    ages = f"age {low}" if low == high else f"ages {low}-{high}"
    return (
        f"{m.text} is on the Medicare Code Editor's {m.params.get('edit', 'age')} list ({ages}) and the patient "
        f"is {age} on the service date of lines[{line}]; check the diagnosis code and the patient's date of birth"
    )


def mce_sex(ctx: RuleContext) -> Iterator[Finding]:
    sex = ctx.claim.patient.sex
    if sex is Sex.UNKNOWN:
        return
    reported: set[int] = set()
    for i, li, kinds in _listed(ctx):
        for kind, admitted in MCE_SEXES.items():
            if kind in kinds and sex.value != admitted and i not in reported:
                reported.add(i)
                yield f"diagnosis_codes[{i}]", {"edit": kind.value, "line": str(li)}


def _sex_message(m: MessageContext) -> str:
    recorded = "male" if m.params.get("edit") == MceEditKind.FEMALE.value else "female"
    return (
        f"{m.text} is a diagnosis for {m.params.get('edit', 'one sex')} patients only (Medicare Code Editor) "
        f"and the patient is recorded as {recorded}; check the diagnosis code and the patient's sex"
    )


def mce_manifestation(ctx: RuleContext) -> Iterator[Finding]:
    for i, _, kinds in _listed(ctx):
        if i == 0 and MceEditKind.MANIFESTATION in kinds:
            yield "diagnosis_codes[0]", {}
            return


RULES = (
    Rule(
        "mce.age",
        Severity.ERROR,
        "diagnosis_codes",
        "the diagnosis fits the patient's age on the service date (MCE newborn, pediatric, maternity, adult)",
        mce_age,
        _age_message,
    ),
    Rule(
        "mce.sex",
        Severity.ERROR,
        "diagnosis_codes",
        "the diagnosis fits the patient's sex (MCE)",
        mce_sex,
        _sex_message,
    ),
    Rule(
        "mce.manifestation",
        Severity.ERROR,
        "diagnosis_codes",
        "no manifestation code listed first (MCE)",
        mce_manifestation,
        lambda m: (
            f"{m.text} is a manifestation code (Medicare Code Editor) and cannot be listed first; list the "
            "underlying condition first and this code after it, and point the lines at both"
        ),
    ),
)
