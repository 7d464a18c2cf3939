"""The sandbox's own X12 reader: segments of an interchange, and the 837P and 276 fields the payer acts on.

Independent of the engine's parser on purpose (the sandbox plays the other party): separators come from the ISA,
segments are split and read positionally, and what an answer needs is pulled out by loop-free, tag-based rules.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

#: ISA is fixed width: the element separator is its 4th character, the component separator its 105th, the
#: segment terminator its 106th.
_ISA_LENGTH = 106


class X12ReadError(ValueError):
    """The payload is not an interchange the sandbox can read; the message names the segment, never a value."""


@dataclass(frozen=True)
class Segment:
    tag: str
    elements: tuple[str, ...]
    component: str

    def get(self, index: int) -> str:
        """Element `index` (1-based, as X12 numbers them), "" when absent."""
        return self.elements[index - 1] if 0 < index <= len(self.elements) else ""

    def part(self, index: int, sub: int) -> str:
        """Component `sub` (1-based) of element `index`."""
        parts = self.get(index).split(self.component)
        return parts[sub - 1] if 0 < sub <= len(parts) else ""


@dataclass(frozen=True)
class Interchange:
    sender_id: str
    receiver_id: str
    control_number: str
    segments: tuple[Segment, ...] = field(repr=False)


def read(text: str) -> Interchange:
    """Split an interchange into its segments; X12ReadError when it does not start with a whole ISA."""
    text = text.lstrip("\ufeff \r\n\t")
    if not text.startswith("ISA") or len(text) < _ISA_LENGTH:
        raise X12ReadError("segment 1: an interchange starts with a 106-character ISA segment")
    element, component, terminator = text[3], text[104], text[105]
    segments = []
    for raw in text.split(terminator):
        chunk = raw.strip("\r\n ")
        if chunk:
            tag, *elements = chunk.split(element)
            segments.append(Segment(tag, tuple(elements), component))
    isa = segments[0]
    if segments[-1].tag != "IEA" or segments[-1].get(2) != isa.get(13):
        raise X12ReadError(f"segment {len(segments)}: the interchange does not end with its IEA")
    return Interchange(isa.get(6).strip(), isa.get(8).strip(), isa.get(13), tuple(segments))


@dataclass(frozen=True)
class ClaimIn:
    """What the payer keeps of an 837P claim: the sandbox's JSON submission fields, plus names for its answers."""

    submission: dict[str, Any]
    group_control_number: str
    transaction_control_number: str
    names: dict[str, str]


def read_837p(interchange: Interchange) -> ClaimIn:
    """The one claim of an 837P (005010X222A1), as the sandbox's claim submission; X12ReadError names a gap."""
    fields: dict[str, Any] = {"lines": []}
    names: dict[str, str] = {}
    group = transaction = ""
    line: dict[str, Any] | None = None
    for segment in interchange.segments:
        match segment.tag, segment.get(1):
            case "GS", _:
                group = segment.get(6)
            case "ST", code:
                if code != "837":
                    raise X12ReadError(f"ST: a {code or 'unnamed'} transaction set, not an 837")
                transaction = segment.get(2)
            case "BHT", _:
                fields["claim_id"] = segment.get(3)
            case "NM1", "IL":
                fields["member_id"] = segment.get(9)
                names.update(subscriber_last=segment.get(3), subscriber_first=segment.get(4))
            case "NM1", "QC":
                names.update(patient_last=segment.get(3), patient_first=segment.get(4))
            case "NM1", "PR":
                fields["payer_id"] = segment.get(9)
            case "NM1", "85":
                names.update(provider=segment.get(3), provider_npi=segment.get(9))
            case "NM1", "DN":  # 2310A: the referring provider (kept with the claim, not echoed)
                fields["referring_provider_npi"] = segment.get(9)
            case "CLM", _:
                fields["patient_control_number"] = segment.get(1)
                fields["total_charge"] = _money(segment.get(2))
                fields["frequency_code"] = segment.part(5, 3) or "1"
            case "REF", "F8":
                fields["original_payer_claim_id"] = segment.get(2)
            case "SV1", _:
                line = {
                    "line_number": len(fields["lines"]) + 1,
                    "procedure_code": segment.part(1, 2),
                    "modifiers": [m for m in segment.get(1).split(segment.component)[2:] if m],
                    "charge": _money(segment.get(2)),
                    "units": _units(segment.get(4)),
                }
                fields["lines"].append(line)
            case "DTP", "472" if line is not None:
                value = segment.get(3)
                line["service_date"] = f"{value[:4]}-{value[4:6]}-{value[6:8]}"
            case "REF", "6R" if line is not None:
                line["line_control_number"] = segment.get(2)
            case _:
                pass
    missing = [name for name in ("claim_id", "member_id", "payer_id", "patient_control_number") if name not in fields]
    if missing or not fields["lines"]:
        raise X12ReadError(f"the 837P lacks {', '.join(missing) or 'service lines (SV1)'}")
    if "patient_last" not in names:
        names.update(patient_last=names.get("subscriber_last", ""), patient_first=names.get("subscriber_first", ""))
    return ClaimIn(fields, group, transaction, names)


@dataclass(frozen=True)
class StatusRequest:
    """A 276 (005010X212): which claim it asks about, and the names its 277 echoes."""

    payer_claim_id: str
    trace_number: str
    member_id: str
    names: dict[str, str]


def read_276(interchange: Interchange) -> StatusRequest:
    """The claim a 276 asks about; X12ReadError when it names none (no REF*1K)."""
    found: dict[str, str] = {}
    for segment in interchange.segments:
        match segment.tag, segment.get(1):
            case "ST", code if code != "276":
                raise X12ReadError(f"ST: a {code or 'unnamed'} transaction set, not a 276")
            case "NM1", "IL":
                found.update(member_id=segment.get(9), subscriber_last=segment.get(3), subscriber_first=segment.get(4))
            case "NM1", "QC":
                found.update(patient_last=segment.get(3), patient_first=segment.get(4))
            case "NM1", "1P":
                found.update(provider=segment.get(3), provider_npi=segment.get(9))
            case "TRN", _:
                found["trace_number"] = segment.get(2)
            case "REF", "1K":
                found["payer_claim_id"] = segment.get(2)
            case _:
                pass
    if not found.get("payer_claim_id"):
        raise X12ReadError("the 276 names no payer claim id (REF*1K)")
    names = {k: v for k, v in found.items() if k not in ("member_id", "trace_number", "payer_claim_id")}
    return StatusRequest(found["payer_claim_id"], found.get("trace_number", ""), found.get("member_id", ""), names)


def _money(value: str) -> str:
    """An X12 amount ("45", "45.5") as the sandbox's two-place money string; left as is when it is not one (the
    claim's validation then names the field)."""
    whole, _, fraction = value.partition(".")
    if whole.isdigit() and (not fraction or fraction.isdigit()) and len(fraction) <= 2:
        return f"{whole}.{fraction.ljust(2, '0')}"
    return value


def _units(value: str) -> int:
    """SV104 as whole units (1 when absent; 0, refused by the payer's edits, when it is not a whole number)."""
    return int(value) if value.isdigit() else (1 if not value else 0)


@dataclass(frozen=True)
class EligibilityInquiryIn:
    """A 270 (005010X279A1): who is asked about, for which service type and day, under which trace number."""

    payer_id: str
    provider_name: str
    provider_npi: str
    member_id: str
    last_name: str
    first_name: str
    date_of_birth: str
    sex: str
    group_number: str
    service_date: str
    service_type: str
    trace_number: str
    transaction_control_number: str


def read_270(interchange: Interchange) -> EligibilityInquiryIn:
    """The member a 270 asks about; X12ReadError when it names none (no NM1*IL) or carries no trace (TRN)."""
    found: dict[str, str] = {"service_type": "30"}
    for segment in interchange.segments:
        match segment.tag, segment.get(1):
            case "ST", code:
                if code != "270":
                    raise X12ReadError(f"ST: a {code or 'unnamed'} transaction set, not a 270")
                found["transaction_control_number"] = segment.get(2)
            case "NM1", "PR":
                found["payer_id"] = segment.get(9)
            case "NM1", "1P":
                found.update(provider_name=segment.get(3), provider_npi=segment.get(9))
            case "NM1", "IL":
                found.update(member_id=segment.get(9), last_name=segment.get(3), first_name=segment.get(4))
            case "TRN", _:
                found["trace_number"] = segment.get(2)
            case "REF", "6P":
                found["group_number"] = segment.get(2)
            case "DMG", "D8":
                found.update(date_of_birth=segment.get(2), sex=segment.get(3))
            case "DTP", "291":
                found["service_date"] = segment.get(3)
            case "EQ", code:
                found["service_type"] = code
            case _:
                pass
    missing = [name for name in ("member_id", "trace_number") if not found.get(name)]
    if missing:
        raise X12ReadError(f"the 270 lacks {' and '.join(missing)} (NM1*IL NM109, TRN02)")
    fields = EligibilityInquiryIn.__dataclass_fields__
    return EligibilityInquiryIn(**{name: found.get(name, "") for name in fields})
