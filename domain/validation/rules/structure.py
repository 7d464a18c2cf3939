"""Structure rules: pointers, line and claim identifiers, frequency references, payer and member ids."""

from __future__ import annotations

import re
from collections.abc import Iterator

from domain.claim import FrequencyCode
from domain.validation.issues import Severity
from domain.validation.registry import MAX_DIAGNOSES, Finding, MessageContext, Rule, RuleContext

MAX_POINTERS = 4
MAX_PATIENT_CONTROL_NUMBER = 17
PLACE_OF_SERVICE = re.compile(r"[0-9]{2}")
#: Values submitters send when they have no id: refused as if absent.
_PLACEHOLDER_WORDS = re.compile(r"(?i)N/?A|NONE|NULL|UNKNOWN|UNK|TBD|PENDING")
_PLACEHOLDER_FILL = frozenset("0X*-./")


def is_placeholder(value: str) -> bool:
    """Whether an id is blank or a stand-in for a missing one (N/A, UNKNOWN, 000000, XXXX, ...)."""
    bare = value.strip().upper()
    if not bare or _PLACEHOLDER_WORDS.fullmatch(bare):
        return True
    return len(set(bare)) == 1 and bare[0] in _PLACEHOLDER_FILL


def pointer_count(ctx: RuleContext) -> Iterator[Finding]:
    for i, line in enumerate(ctx.claim.lines):
        if len(line.diagnosis_pointers) > MAX_POINTERS:
            yield f"lines[{i}].diagnosis_pointers", {"count": str(len(line.diagnosis_pointers))}


def pointer_exists(ctx: RuleContext) -> Iterator[Finding]:
    usable = min(len(ctx.claim.diagnosis_codes), MAX_DIAGNOSES)
    for i, line in enumerate(ctx.claim.lines):
        for j, pointer in enumerate(line.diagnosis_pointers):
            if not 1 <= pointer <= usable:
                yield f"lines[{i}].diagnosis_pointers[{j}]", {"usable": str(usable)}


def pointer_duplicate(ctx: RuleContext) -> Iterator[Finding]:
    for i, line in enumerate(ctx.claim.lines):
        seen: set[int] = set()
        for j, pointer in enumerate(line.diagnosis_pointers):
            if pointer in seen:
                yield f"lines[{i}].diagnosis_pointers[{j}]", {}
            seen.add(pointer)


def line_control_unique(ctx: RuleContext) -> Iterator[Finding]:
    first: dict[str, int] = {}
    for i, line in enumerate(ctx.claim.lines):
        number = line.line_control_number
        if number in first:
            yield f"lines[{i}].line_control_number", {"first": str(first[number])}
        else:
            first[number] = i


def place_of_service(ctx: RuleContext) -> Iterator[Finding]:
    for i, line in enumerate(ctx.claim.lines):
        pos = line.place_of_service
        if PLACE_OF_SERVICE.fullmatch(pos) is None or pos == "00":
            yield f"lines[{i}].place_of_service", {}


def patient_control_number(ctx: RuleContext) -> Iterator[Finding]:
    number = ctx.claim.patient_control_number
    if len(number) > MAX_PATIENT_CONTROL_NUMBER:
        yield "patient_control_number", {"length": str(len(number))}


def original_required(ctx: RuleContext) -> Iterator[Finding]:
    claim = ctx.claim
    if claim.frequency_code is not FrequencyCode.ORIGINAL and not claim.original_payer_claim_id:
        yield "original_payer_claim_id", {"frequency_code": claim.frequency_code.value}


def _original_required_message(m: MessageContext) -> str:
    kind = "replacement (7)" if m.params.get("frequency_code") == FrequencyCode.REPLACEMENT.value else "void (8)"
    return f"a {kind} claim must name the claim it changes; send the payer's claim number of the original"


def original_unexpected(ctx: RuleContext) -> Iterator[Finding]:
    claim = ctx.claim
    if claim.frequency_code is FrequencyCode.ORIGINAL and claim.original_payer_claim_id:
        yield "original_payer_claim_id", {}


def payer_id_present(ctx: RuleContext) -> Iterator[Finding]:
    if is_placeholder(ctx.claim.insurance.payer_id):
        yield "insurance.payer_id", {}


def member_id_present(ctx: RuleContext) -> Iterator[Finding]:
    if is_placeholder(ctx.claim.insurance.member_id):
        yield "insurance.member_id", {}


def _normal_id(value: str) -> str:
    return re.sub(r"[\s\-]", "", value).upper()


def member_id_mismatch(ctx: RuleContext) -> Iterator[Finding]:
    insured = ctx.claim.insurance.member_id
    if is_placeholder(insured):  # the missing id is reported by its own rule
        return
    if _normal_id(ctx.claim.patient.member_id) != _normal_id(insured):
        yield "patient.member_id", {}


# The member id messages never echo the ids.
RULES = (
    Rule(
        "pointer.count",
        Severity.ERROR,
        "lines[].diagnosis_pointers",
        "at most 4 pointers per line",
        pointer_count,
        lambda m: (
            f"the line has {m.params.get('count', 'too many')} diagnosis pointers and a line carries at most "
            f"{MAX_POINTERS}; keep the {MAX_POINTERS} diagnoses that best support the service"
        ),
    ),
    Rule(
        "pointer.exists",
        Severity.ERROR,
        "lines[].diagnosis_pointers",
        "pointers name listed diagnoses",
        pointer_exists,
        lambda m: (
            f"pointer {m.text} names no diagnosis; pointers count diagnosis_codes from 1, "
            f"so use 1..{m.params.get('usable', MAX_DIAGNOSES)}"
        ),
    ),
    Rule(
        "pointer.duplicate",
        Severity.ERROR,
        "lines[].diagnosis_pointers",
        "no pointer repeated",
        pointer_duplicate,
        lambda m: f"pointer {m.text} is repeated on the line; send it once",
    ),
    Rule(
        "line_control_number.unique",
        Severity.ERROR,
        "lines[].line_control_number",
        "line control numbers are unique in the claim",
        line_control_unique,
        lambda m: (
            f"{m.text} is already the control number of lines[{m.params.get('first', '0')}]; give each line its own"
        ),
    ),
    Rule(
        "place_of_service.format",
        Severity.ERROR,
        "lines[].place_of_service",
        "2-digit POS code",
        place_of_service,
        lambda m: (
            f"{m.text} is not a place of service code; send the 2-digit CMS code (e.g. 81 for an independent lab)"
        ),
    ),
    Rule(
        "patient_control_number.length",
        Severity.ERROR,
        "patient_control_number",
        f"at most {MAX_PATIENT_CONTROL_NUMBER} characters",
        patient_control_number,
        lambda m: (
            f"the patient control number has {m.params.get('length', 'too many')} characters and payers keep only "
            f"{MAX_PATIENT_CONTROL_NUMBER}; send an id of at most {MAX_PATIENT_CONTROL_NUMBER} characters"
        ),
    ),
    Rule(
        "original_claim_id.required",
        Severity.ERROR,
        "original_payer_claim_id",
        "a replacement or void names the original claim",
        original_required,
        _original_required_message,
    ),
    Rule(
        "original_claim_id.unexpected",
        Severity.WARNING,
        "original_payer_claim_id",
        "an original claim names no earlier claim",
        original_unexpected,
        lambda _: (
            "an original (1) claim names no earlier claim, so original_payer_claim_id is ignored; "
            "send frequency 7 to correct or 8 to void that claim, or drop the field"
        ),
    ),
    Rule(
        "payer_id.present",
        Severity.ERROR,
        "insurance.payer_id",
        "a real payer id",
        payer_id_present,
        lambda _: "the payer id is missing; send the payer's id from the member's insurance card",
    ),
    Rule(
        "member_id.present",
        Severity.ERROR,
        "insurance.member_id",
        "a real member id",
        member_id_present,
        lambda _: "the member id is missing; send the id printed on the member's insurance card",
    ),
    Rule(
        "member_id.mismatch",
        Severity.WARNING,
        "patient.member_id",
        "patient and insurance member ids agree",
        member_id_mismatch,
        lambda _: "the patient's member id differs from insurance.member_id; send the id on the insurance card in both",
    ),
)
