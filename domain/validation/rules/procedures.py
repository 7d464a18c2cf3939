"""Procedure rules: CPT/HCPCS code format, presence in the procedure table on the service date, modifiers."""

from __future__ import annotations

import re
from collections.abc import Iterator

from domain.codes import PROCEDURE_CODE, CodeStatus
from domain.validation.issues import Severity
from domain.validation.registry import Finding, Rule, RuleContext

MODIFIER = re.compile(r"[0-9A-Z]{2}")
MAX_MODIFIERS = 4


def _well_formed(code: str) -> bool:
    return PROCEDURE_CODE.fullmatch(code) is not None


def procedure_format(ctx: RuleContext) -> Iterator[Finding]:
    for i, line in enumerate(ctx.claim.lines):
        code = line.procedure_code
        if _well_formed(code):
            continue
        if _well_formed(code.upper()):
            todo = f"send it in upper case ({code.upper()})"
        else:
            todo = "send a CPT code (5 digits, or 4 digits and F, T or U) or a HCPCS code (a letter and 4 digits)"
        yield f"lines[{i}].procedure_code", f"{code} is not a CPT or HCPCS code; {todo}"


def _table_status(ctx: RuleContext, wanted: tuple[CodeStatus, ...]) -> Iterator[tuple[int, str, CodeStatus]]:
    for i, status in enumerate(ctx.procedure_status):
        if status in wanted:
            yield i, ctx.claim.lines[i].procedure_code, status


def known(ctx: RuleContext) -> Iterator[Finding]:
    for i, code, _ in _table_status(ctx, (CodeStatus.UNKNOWN,)):
        yield (
            f"lines[{i}].procedure_code",
            f"{code} is not in the procedure code table; check the code against the payer's fee schedule",
        )


def billable(ctx: RuleContext) -> Iterator[Finding]:
    for i, code, _ in _table_status(ctx, (CodeStatus.NOT_BILLABLE,)):
        yield (
            f"lines[{i}].procedure_code",
            f"{code} is in the procedure code table but not billable; bill the service with a billable code",
        )


def active(ctx: RuleContext) -> Iterator[Finding]:
    for i, code, status in _table_status(ctx, (CodeStatus.NOT_YET_EFFECTIVE, CodeStatus.TERMINATED)):
        when = "not yet in effect" if status is CodeStatus.NOT_YET_EFFECTIVE else "retired"
        yield (
            f"lines[{i}].procedure_code",
            f"{code} is {when} on this line's service date; bill the code valid on the service date",
        )


def modifier_count(ctx: RuleContext) -> Iterator[Finding]:
    for i, line in enumerate(ctx.claim.lines):
        if len(line.modifiers) > MAX_MODIFIERS:
            yield (
                f"lines[{i}].modifiers",
                f"the line has {len(line.modifiers)} modifiers and a line carries at most {MAX_MODIFIERS}; "
                "keep the ones that affect payment, pricing modifiers first",
            )


def modifier_format(ctx: RuleContext) -> Iterator[Finding]:
    for i, line in enumerate(ctx.claim.lines):
        for j, modifier in enumerate(line.modifiers):
            if MODIFIER.fullmatch(modifier) is None:
                upper = MODIFIER.fullmatch(modifier.upper()) is not None
                todo = f"send it in upper case ({modifier.upper()})" if upper else "a modifier is 2 letters or digits"
                yield f"lines[{i}].modifiers[{j}]", f"{modifier} is not a modifier; {todo}"


def modifier_duplicate(ctx: RuleContext) -> Iterator[Finding]:
    for i, line in enumerate(ctx.claim.lines):
        seen: set[str] = set()
        for j, modifier in enumerate(line.modifiers):
            if modifier in seen:
                yield f"lines[{i}].modifiers[{j}]", f"modifier {modifier} is repeated on the line; send it once"
            seen.add(modifier)


RULES = (
    Rule("procedure.format", Severity.ERROR, "lines[].procedure_code", "CPT or HCPCS code format", procedure_format),
    Rule("procedure.known", Severity.ERROR, "lines[].procedure_code", "the code is in the procedure table", known),
    Rule("procedure.billable", Severity.ERROR, "lines[].procedure_code", "the table marks the code billable", billable),
    Rule(
        "procedure.active",
        Severity.ERROR,
        "lines[].procedure_code",
        "the code is in effect on the service date",
        active,
    ),
    Rule("modifier.count", Severity.ERROR, "lines[].modifiers", "at most 4 modifiers per line", modifier_count),
    Rule("modifier.format", Severity.ERROR, "lines[].modifiers", "each modifier is 2 alphanumerics", modifier_format),
    Rule(
        "modifier.duplicate", Severity.ERROR, "lines[].modifiers", "no modifier repeated on a line", modifier_duplicate
    ),
)
