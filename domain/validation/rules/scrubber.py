"""Scrubber edits on the lines, from the CMS tables: NCCI PTP pairs, medically unlikely edits, repeated tests."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

from domain.claim import FrequencyCode, ServiceLine
from domain.edit_tables import (
    PTP_BYPASS_MODIFIERS,
    REPEAT_TEST_MODIFIERS,
    EditTables,
    ModifierIndicator,
    MueAdjudication,
    edit_key,
)
from domain.validation.issues import Severity
from domain.validation.registry import Finding, MessageContext, Rule, RuleContext


def edit_tables(ctx: RuleContext) -> EditTables | None:
    """The loaded edit tables, or None when there are none or the claim is a void (it only withdraws its original)."""
    if ctx.claim.frequency_code is FrequencyCode.VOID:
        return None
    return ctx.codes.edits


def _same_day_groups(lines: list[ServiceLine]) -> dict[tuple[str, date], list[int]]:
    """The line indices of each (procedure, service date), in line order."""
    groups: dict[tuple[str, date], list[int]] = {}
    for i, line in enumerate(lines):
        groups.setdefault((edit_key(line.procedure_code), line.service_date), []).append(i)
    return groups


def _bypassed(*lines: ServiceLine) -> bool:
    return any(modifier.upper() in PTP_BYPASS_MODIFIERS for line in lines for modifier in line.modifiers)


def ptp_pair(ctx: RuleContext) -> Iterator[Finding]:
    tables = edit_tables(ctx)
    if tables is None:
        return
    lines = ctx.claim.lines
    for j, component in enumerate(lines):
        for i, comprehensive in enumerate(lines):
            if i == j or comprehensive.service_date != component.service_date:
                continue
            pair = tables.ptp(comprehensive.procedure_code, component.procedure_code, component.service_date)
            if pair is None:
                continue
            if pair.modifier_indicator is ModifierIndicator.ALLOWED and _bypassed(component, comprehensive):
                continue
            yield f"lines[{j}].procedure_code", {"line": str(i), "indicator": pair.modifier_indicator.value}
            break  # one finding per bundled line: the first line it is bundled into


def _line_label(m: MessageContext, index: str) -> str:
    return f"lines[{index}] {m.at(f'lines[{index}].procedure_code') or ''}".rstrip()


def _ptp_message(m: MessageContext) -> str:
    this = m.path.removesuffix(".procedure_code")
    other = m.params.get("line", "0")
    on = m.at(f"{this}.service_date")
    said = f"{this} {m.text} is bundled into {_line_label(m, other)} on {on}"
    if m.params.get("indicator") == ModifierIndicator.NEVER.value:
        return f"{said} (NCCI, modifier indicator 0: never paid together): drop {this}"
    return (
        f"{said} (NCCI): drop it, or add modifier 59 (or XE, XS, XP, XU; 91 for a repeated test) "
        "if the service was distinct"
    )


def mue_line(ctx: RuleContext) -> Iterator[Finding]:
    tables = edit_tables(ctx)
    if tables is None:
        return
    for i, line in enumerate(ctx.claim.lines):
        edit = tables.mue(line.procedure_code, line.service_date)
        if edit is not None and edit.mai is MueAdjudication.LINE and line.units > edit.units:
            yield f"lines[{i}].units", {"limit": str(edit.units), "mai": str(edit.mai.value)}


def _mue_line_message(m: MessageContext) -> str:
    this = m.path.removesuffix(".units")
    limit = m.params.get("limit", "?")
    return (
        f"{this} bills {m.text} units of {m.at(f'{this}.procedure_code')} and CMS allows at most {limit} on one line "
        f"(MUE, MAI 1); bill at most {limit}, and put units beyond it that were medically necessary on another "
        "line with the modifier that explains them (91 for a repeated test, 59 for a distinct service)"
    )


def mue_day(ctx: RuleContext) -> Iterator[Finding]:
    tables = edit_tables(ctx)
    if tables is None:
        return
    lines = ctx.claim.lines
    for (code, on), indices in _same_day_groups(lines).items():
        edit = tables.mue(code, on)
        if edit is None or not edit.mai.per_day:
            continue
        if sum(lines[i].units for i in indices) > edit.units:
            yield f"lines[{indices[0]}].units", {"limit": str(edit.units), "mai": str(edit.mai.value)}


def _mue_day_message(m: MessageContext) -> str:
    lines = m.claim.lines
    first = next((i for i, line in enumerate(lines) if m.path == f"lines[{i}].units"), 0)
    code, on = edit_key(lines[first].procedure_code), lines[first].service_date
    indices = _same_day_groups(lines).get((code, on), [first])
    total = sum(lines[i].units for i in indices)
    limit = m.params.get("limit", "?")
    why = (
        "a policy limit, no appeal raises it"
        if m.params.get("mai") == str(MueAdjudication.DAY_POLICY.value)
        else "units above it are denied unless the record documents them on appeal"
    )
    named = ", ".join(f"lines[{i}]" for i in indices)
    return (
        f"{named} {'bill' if len(indices) > 1 else 'bills'} {total} units of {lines[first].procedure_code} on {on} "
        f"and CMS allows at most {limit} a day (MUE, MAI {m.params.get('mai', '?')}: {why}); "
        f"bill at most {limit} for the day"
    )


def repeat_test(ctx: RuleContext) -> Iterator[Finding]:
    if edit_tables(ctx) is None:
        return
    lines = ctx.claim.lines
    for indices in _same_day_groups(lines).values():
        first, *repeats = indices
        for j in repeats:
            if not any(modifier.upper() in REPEAT_TEST_MODIFIERS for modifier in lines[j].modifiers):
                yield f"lines[{j}].modifiers", {"line": str(first)}


def _repeat_message(m: MessageContext) -> str:
    this = m.path.removesuffix(".modifiers")
    first = m.params.get("line", "0")
    return (
        f"{this} repeats {_line_label(m, first)} on {m.at(f'{this}.service_date')} without modifier 91; "
        "add 91 if the test was run again for a new result (59 if it was a distinct service), "
        f"otherwise drop {this}"
    )


RULES = (
    Rule(
        "ncci.ptp",
        Severity.ERROR,
        "lines[].procedure_code",
        "no NCCI procedure-to-procedure pair on one day, unless a modifier may and does bypass it",
        ptp_pair,
        _ptp_message,
    ),
    Rule(
        "mue.line",
        Severity.ERROR,
        "lines[].units",
        "units on a line within the code's MUE (MAI 1)",
        mue_line,
        _mue_line_message,
    ),
    Rule(
        "mue.day",
        Severity.ERROR,
        "lines[].units",
        "units of a code on one day within its MUE (MAI 2 and 3)",
        mue_day,
        _mue_day_message,
    ),
    Rule(
        "repeat_test.modifier",
        Severity.ERROR,
        "lines[].modifiers",
        "a test repeated on one day carries modifier 91 (or 59)",
        repeat_test,
        _repeat_message,
    ),
)
