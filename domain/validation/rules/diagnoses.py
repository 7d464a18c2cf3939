"""Diagnosis rules: ICD-10-CM codes exist, are billable on the service date, and are listed sensibly."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

from domain.codes import CodeStatus, icd10_children
from domain.validation.issues import Severity
from domain.validation.registry import MAX_DIAGNOSES, Finding, MessageContext, Params, Rule, RuleContext

_EXTERNAL_CAUSE = frozenset("VWXY")


def _judged(ctx: RuleContext, wanted: tuple[CodeStatus, ...]) -> Iterator[tuple[int, str, int | None, CodeStatus]]:
    for i, (status, line) in enumerate(ctx.diagnosis_status):
        if status in wanted and not ctx.is_repeat(i):
            yield i, ctx.claim.diagnosis_codes[i], line, status


def count(ctx: RuleContext) -> Iterator[Finding]:
    n = len(ctx.claim.diagnosis_codes)
    if n == 0 or n > MAX_DIAGNOSES:
        yield "diagnosis_codes", {"count": str(n)}


def _count_message(m: MessageContext) -> str:
    n = int(m.params.get("count", "0"))
    if n == 0:
        return "the claim lists no diagnosis; add at least the principal ICD-10-CM code"
    return (
        f"the claim lists {n} diagnosis codes and a professional claim carries at most {MAX_DIAGNOSES}; "
        f"keep the {MAX_DIAGNOSES} the lines point at, principal first, and drop the rest"
    )


def duplicate(ctx: RuleContext) -> Iterator[Finding]:
    for i, code in enumerate(ctx.claim.diagnosis_codes):
        if ctx.is_repeat(i):
            yield f"diagnosis_codes[{i}]", {"first": str(ctx.first_index[code])}


def _duplicate_message(m: MessageContext) -> str:
    first = int(m.params.get("first", "0"))
    return (
        f"{m.text} is already listed at diagnosis_codes[{first}]; list each code once "
        f"and point the lines at pointer {first + 1}"
    )


def exists(ctx: RuleContext) -> Iterator[Finding]:
    for i, _, _, _ in _judged(ctx, (CodeStatus.UNKNOWN,)):
        yield f"diagnosis_codes[{i}]", {}


def billable(ctx: RuleContext) -> Iterator[Finding]:
    for i, _, _, _ in _judged(ctx, (CodeStatus.NOT_BILLABLE,)):
        yield f"diagnosis_codes[{i}]", {}


def _billable_message(m: MessageContext) -> str:
    children = icd10_children(m.text)
    hint = f" (it divides into {children[0]}...{children[-1]})" if len(children) > 1 else ""
    return (
        f"{m.text} is a category, not a billable code; send a complete code under it, "
        f"as specific as the record supports{hint}"
    )


def _window(ctx: RuleContext, code: str, on: date, status: CodeStatus) -> Params:
    """When the code's validity starts or ended, from the code sets (dates of the code, not of the claim)."""
    overrides = ctx.codes.icd10_overrides
    entries = overrides.entries(code) if overrides is not None else ()
    if status is CodeStatus.NOT_YET_EFFECTIVE:
        starts = sorted(e.effective_date for e in entries if e.effective_date is not None and e.effective_date > on)
        return {"takes_effect": starts[0].isoformat()} if starts else {}
    ends = sorted(e.termination_date for e in entries if e.termination_date is not None and e.termination_date < on)
    return {"retired_after": ends[-1].isoformat()} if ends else {}


def active(ctx: RuleContext) -> Iterator[Finding]:
    for i, code, line, status in _judged(ctx, (CodeStatus.NOT_YET_EFFECTIVE, CodeStatus.TERMINATED)):
        assert line is not None
        on = ctx.claim.lines[line].service_date
        yield f"diagnosis_codes[{i}]", {"line": str(line), **_window(ctx, code, on, status)}


def _active_message(m: MessageContext) -> str:
    if "takes_effect" in m.params:
        hint = f"it takes effect on {m.params['takes_effect']}; use the code valid on that date"
    elif "retired_after" in m.params:
        hint = f"it was retired after {m.params['retired_after']}; use the code that replaced it"
    else:
        hint = "use the code valid on the service date"
    return f"{m.text} is not valid on the service date of lines[{m.params.get('line', '0')}]; {hint}"


def principal(ctx: RuleContext) -> Iterator[Finding]:
    codes = ctx.claim.diagnosis_codes
    if codes and codes[0][:1] in _EXTERNAL_CAUSE:
        yield "diagnosis_codes[0]", {}


def unreferenced(ctx: RuleContext) -> Iterator[Finding]:
    for i, lines in enumerate(ctx.pointing_lines[:MAX_DIAGNOSES]):
        if not lines and not ctx.is_repeat(i):
            yield f"diagnosis_codes[{i}]", {"pointer": str(i + 1)}


def sex(ctx: RuleContext) -> Iterator[Finding]:
    if ctx.claim.patient.sex != "M":
        return
    for i, code in enumerate(ctx.claim.diagnosis_codes):
        if code.startswith("O") and not ctx.is_repeat(i):
            yield f"diagnosis_codes[{i}]", {}


RULES = (
    Rule("icd10.count", Severity.ERROR, "diagnosis_codes", "1 to 12 diagnosis codes", count, _count_message),
    Rule(
        "icd10.duplicate",
        Severity.ERROR,
        "diagnosis_codes",
        "no diagnosis code listed twice",
        duplicate,
        _duplicate_message,
    ),
    Rule(
        "icd10.exists",
        Severity.ERROR,
        "diagnosis_codes",
        "the code is in ICD-10-CM",
        exists,
        lambda m: (
            f"{m.text} is not an ICD-10-CM code; check it for typos and send the code exactly as the code set "
            "lists it (a letter, a digit, a letter or digit, then up to 4 more after the dot)"
        ),
    ),
    Rule(
        "icd10.billable",
        Severity.ERROR,
        "diagnosis_codes",
        "the code is billable (a leaf, not a category)",
        billable,
        _billable_message,
    ),
    Rule(
        "icd10.active",
        Severity.ERROR,
        "diagnosis_codes",
        "the code is in effect on the service date",
        active,
        _active_message,
    ),
    Rule(
        "icd10.principal",
        Severity.ERROR,
        "diagnosis_codes",
        "the principal code is no external cause",
        principal,
        lambda m: (
            f"{m.text} is an external-cause code (V00-Y99) and cannot be the principal diagnosis; "
            "list the injury or condition first and the external cause after it"
        ),
    ),
    Rule(
        "icd10.unreferenced",
        Severity.WARNING,
        "diagnosis_codes",
        "some line points at the code",
        unreferenced,
        lambda m: (
            f"no line points at {m.text} (pointer {m.params.get('pointer', '?')}); "
            "point the line it supports at it, or remove it"
        ),
    ),
    Rule(
        "icd10.sex",
        Severity.WARNING,
        "diagnosis_codes",
        "no pregnancy code on a male patient",
        sex,
        lambda m: (
            f"{m.text} is a pregnancy code and the patient is recorded as male; "
            "check the diagnosis code and the patient's sex"
        ),
    ),
)
