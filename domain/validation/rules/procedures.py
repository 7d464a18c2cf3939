"""Procedure rules: CPT/HCPCS code format, presence in the procedure table on the service date, modifiers.

A code the table does not list is an error once its system (HCPCS or CPT) has been loaded in full,
and only a warning before: a partial table cannot tell a new or licensed code from a wrong one.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from domain.codes import PROCEDURE_CODE, CodeStatus, procedure_system
from domain.validation.issues import Severity
from domain.validation.registry import Finding, MessageContext, Rule, RuleContext

MODIFIER = re.compile(r"[0-9A-Z]{2}")
MAX_MODIFIERS = 4


def _well_formed(code: str) -> bool:
    return PROCEDURE_CODE.fullmatch(code) is not None


def procedure_format(ctx: RuleContext) -> Iterator[Finding]:
    for i, line in enumerate(ctx.claim.lines):
        if not _well_formed(line.procedure_code):
            yield f"lines[{i}].procedure_code", {}


def _format_message(m: MessageContext) -> str:
    return (
        f"{m.text} is not a CPT or HCPCS code; send a CPT code (5 digits, or 4 digits and F, T or U) "
        "or a HCPCS code (a letter and 4 digits)"
    )


def _table_status(ctx: RuleContext, wanted: tuple[CodeStatus, ...]) -> Iterator[tuple[int, CodeStatus]]:
    for i, status in enumerate(ctx.procedure_status):
        if status in wanted:
            yield i, status


def _unlisted(ctx: RuleContext, *, complete: bool) -> Iterator[Finding]:
    for i, _ in _table_status(ctx, (CodeStatus.UNKNOWN,)):
        system = procedure_system(ctx.claim.lines[i].procedure_code)
        if ctx.codes.complete(system) is complete:
            yield f"lines[{i}].procedure_code", {"system": system.value}


def known(ctx: RuleContext) -> Iterator[Finding]:
    """Unknown to a system loaded in full: no such code."""
    return _unlisted(ctx, complete=True)


def unlisted(ctx: RuleContext) -> Iterator[Finding]:
    """Unknown to a table that holds only part of its system: maybe a code nobody loaded yet."""
    return _unlisted(ctx, complete=False)


def _system_name(m: MessageContext) -> str:
    return "HCPCS Level II" if m.params.get("system") == "hcpcs" else "CPT"


def billable(ctx: RuleContext) -> Iterator[Finding]:
    for i, _ in _table_status(ctx, (CodeStatus.NOT_BILLABLE,)):
        yield f"lines[{i}].procedure_code", {}


def active(ctx: RuleContext) -> Iterator[Finding]:
    for i, status in _table_status(ctx, (CodeStatus.NOT_YET_EFFECTIVE, CodeStatus.TERMINATED)):
        yield f"lines[{i}].procedure_code", {"status": status.value}


def _active_message(m: MessageContext) -> str:
    when = "not yet in effect" if m.params.get("status") == CodeStatus.NOT_YET_EFFECTIVE.value else "retired"
    return f"{m.text} is {when} on this line's service date; bill the code valid on the service date"


def modifier_count(ctx: RuleContext) -> Iterator[Finding]:
    for i, line in enumerate(ctx.claim.lines):
        if len(line.modifiers) > MAX_MODIFIERS:
            yield f"lines[{i}].modifiers", {"count": str(len(line.modifiers))}


def modifier_format(ctx: RuleContext) -> Iterator[Finding]:
    for i, line in enumerate(ctx.claim.lines):
        for j, modifier in enumerate(line.modifiers):
            if MODIFIER.fullmatch(modifier) is None:
                yield f"lines[{i}].modifiers[{j}]", {}


def _modifier_message(m: MessageContext) -> str:
    modifier = m.text
    upper = MODIFIER.fullmatch(modifier.upper()) is not None
    todo = f"send it in upper case ({modifier.upper()})" if upper else "a modifier is 2 letters or digits"
    return f"{modifier} is not a modifier; {todo}"


def modifier_duplicate(ctx: RuleContext) -> Iterator[Finding]:
    for i, line in enumerate(ctx.claim.lines):
        seen: set[str] = set()
        for j, modifier in enumerate(line.modifiers):
            if modifier in seen:
                yield f"lines[{i}].modifiers[{j}]", {}
            seen.add(modifier)


RULES = (
    Rule(
        "procedure.format",
        Severity.ERROR,
        "lines[].procedure_code",
        "CPT or HCPCS code format",
        procedure_format,
        _format_message,
    ),
    Rule(
        "procedure.known",
        Severity.ERROR,
        "lines[].procedure_code",
        "the code is in the procedure table",
        known,
        lambda m: (
            f"{m.text} is not a {_system_name(m)} code (the complete {_system_name(m)} release is loaded); "
            "check the code against the payer's fee schedule"
        ),
    ),
    Rule(
        "procedure.unlisted",
        Severity.WARNING,
        "lines[].procedure_code",
        "the code is in the procedure table (a partial one: its system is not loaded in full)",
        unlisted,
        lambda m: (
            f"{m.text} is not in the procedure code table, which holds only part of {_system_name(m)}; "
            f"check the code, or load the full release (claimflow codes import --system {m.params.get('system')} "
            "FILE --full)"
        ),
    ),
    Rule(
        "procedure.billable",
        Severity.ERROR,
        "lines[].procedure_code",
        "the table marks the code billable",
        billable,
        lambda m: f"{m.text} is in the procedure code table but not billable; bill the service with a billable code",
    ),
    Rule(
        "procedure.active",
        Severity.ERROR,
        "lines[].procedure_code",
        "the code is in effect on the service date",
        active,
        _active_message,
    ),
    Rule(
        "modifier.count",
        Severity.ERROR,
        "lines[].modifiers",
        "at most 4 modifiers per line",
        modifier_count,
        lambda m: (
            f"the line has {m.params.get('count', 'too many')} modifiers and a line carries at most {MAX_MODIFIERS}; "
            "keep the ones that affect payment, pricing modifiers first"
        ),
    ),
    Rule(
        "modifier.format",
        Severity.ERROR,
        "lines[].modifiers",
        "each modifier is 2 alphanumerics",
        modifier_format,
        _modifier_message,
    ),
    Rule(
        "modifier.duplicate",
        Severity.ERROR,
        "lines[].modifiers",
        "no modifier repeated on a line",
        modifier_duplicate,
        lambda m: f"modifier {m.text} is repeated on the line; send it once",
    ),
)
