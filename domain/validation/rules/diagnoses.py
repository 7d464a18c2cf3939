"""Diagnosis rules: ICD-10-CM codes exist, are billable on the service date, and are listed sensibly."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

from domain.codes import CodeStatus, icd10_children
from domain.validation.issues import Severity
from domain.validation.registry import MAX_DIAGNOSES, Finding, Rule, RuleContext

_EXTERNAL_CAUSE = frozenset("VWXY")


def _judged(ctx: RuleContext, wanted: tuple[CodeStatus, ...]) -> Iterator[tuple[int, str, int | None, CodeStatus]]:
    for i, (status, line) in enumerate(ctx.diagnosis_status):
        if status in wanted and not ctx.is_repeat(i):
            yield i, ctx.claim.diagnosis_codes[i], line, status


def count(ctx: RuleContext) -> Iterator[Finding]:
    n = len(ctx.claim.diagnosis_codes)
    if n == 0:
        yield "diagnosis_codes", "the claim lists no diagnosis; add at least the principal ICD-10-CM code"
    elif n > MAX_DIAGNOSES:
        yield (
            "diagnosis_codes",
            f"the claim lists {n} diagnosis codes and a professional claim carries at most {MAX_DIAGNOSES}; "
            f"keep the {MAX_DIAGNOSES} the lines point at, principal first, and drop the rest",
        )


def duplicate(ctx: RuleContext) -> Iterator[Finding]:
    for i, code in enumerate(ctx.claim.diagnosis_codes):
        if ctx.is_repeat(i):
            first = ctx.first_index[code]
            yield (
                f"diagnosis_codes[{i}]",
                f"{code} is already listed at diagnosis_codes[{first}]; list each code once "
                f"and point the lines at pointer {first + 1}",
            )


def exists(ctx: RuleContext) -> Iterator[Finding]:
    for i, code, _, _ in _judged(ctx, (CodeStatus.UNKNOWN,)):
        yield (
            f"diagnosis_codes[{i}]",
            f"{code or '(empty)'} is not an ICD-10-CM code; check it for typos and send the code "
            "exactly as the code set lists it (a letter, a digit, a letter or digit, then up to 4 more after the dot)",
        )


def billable(ctx: RuleContext) -> Iterator[Finding]:
    for i, code, _, _ in _judged(ctx, (CodeStatus.NOT_BILLABLE,)):
        children = icd10_children(code)
        hint = f" (it divides into {children[0]}...{children[-1]})" if len(children) > 1 else ""
        yield (
            f"diagnosis_codes[{i}]",
            f"{code} is a category, not a billable code; send a complete code under it, "
            f"as specific as the record supports{hint}",
        )


def _window_hint(ctx: RuleContext, code: str, on: date, status: CodeStatus) -> str:
    overrides = ctx.codes.icd10_overrides
    entries = overrides.entries(code) if overrides is not None else ()
    if status is CodeStatus.NOT_YET_EFFECTIVE:
        starts = sorted(e.effective_date for e in entries if e.effective_date is not None and e.effective_date > on)
        return f"it takes effect on {starts[0]}; use the code valid on that date" if starts else ""
    ends = sorted(e.termination_date for e in entries if e.termination_date is not None and e.termination_date < on)
    return f"it was retired after {ends[-1]}; use the code that replaced it" if ends else ""


def active(ctx: RuleContext) -> Iterator[Finding]:
    for i, code, line, status in _judged(ctx, (CodeStatus.NOT_YET_EFFECTIVE, CodeStatus.TERMINATED)):
        assert line is not None
        on = ctx.claim.lines[line].service_date
        hint = _window_hint(ctx, code, on, status) or "use the code valid on the service date"
        yield f"diagnosis_codes[{i}]", f"{code} is not valid on the service date of lines[{line}]; {hint}"


def principal(ctx: RuleContext) -> Iterator[Finding]:
    codes = ctx.claim.diagnosis_codes
    if codes and codes[0][:1] in _EXTERNAL_CAUSE:
        yield (
            "diagnosis_codes[0]",
            f"{codes[0]} is an external-cause code (V00-Y99) and cannot be the principal diagnosis; "
            "list the injury or condition first and the external cause after it",
        )


def unreferenced(ctx: RuleContext) -> Iterator[Finding]:
    for i, lines in enumerate(ctx.pointing_lines[:MAX_DIAGNOSES]):
        if not lines and not ctx.is_repeat(i):
            yield (
                f"diagnosis_codes[{i}]",
                f"no line points at {ctx.claim.diagnosis_codes[i]} (pointer {i + 1}); "
                "point the line it supports at it, or remove it",
            )


def sex(ctx: RuleContext) -> Iterator[Finding]:
    if ctx.claim.patient.sex != "M":
        return
    for i, code in enumerate(ctx.claim.diagnosis_codes):
        if code.startswith("O") and not ctx.is_repeat(i):
            yield (
                f"diagnosis_codes[{i}]",
                f"{code} is a pregnancy code and the patient is recorded as male; "
                "check the diagnosis code and the patient's sex",
            )


RULES = (
    Rule("icd10.count", Severity.ERROR, "diagnosis_codes", "1 to 12 diagnosis codes", count),
    Rule("icd10.duplicate", Severity.ERROR, "diagnosis_codes", "no diagnosis code listed twice", duplicate),
    Rule("icd10.exists", Severity.ERROR, "diagnosis_codes", "the code is in ICD-10-CM", exists),
    Rule(
        "icd10.billable", Severity.ERROR, "diagnosis_codes", "the code is billable (a leaf, not a category)", billable
    ),
    Rule("icd10.active", Severity.ERROR, "diagnosis_codes", "the code is in effect on the service date", active),
    Rule("icd10.principal", Severity.ERROR, "diagnosis_codes", "the principal code is no external cause", principal),
    Rule("icd10.unreferenced", Severity.WARNING, "diagnosis_codes", "some line points at the code", unreferenced),
    Rule("icd10.sex", Severity.WARNING, "diagnosis_codes", "no pregnancy code on a male patient", sex),
)
