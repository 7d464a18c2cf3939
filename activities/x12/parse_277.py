"""Read a 277CA claim acknowledgment (005010X214) or a 277 claim status response (005010X212), claim by claim."""

from __future__ import annotations

import datetime as dt
from typing import Any

from activities.x12.models import ClaimStatusAnswer, ClaimStatusKind, ClaimStatusReport, ServiceLineStatus, StatusDetail
from activities.x12.reader import Segment, TransactionSet, X12SyntaxError, parse_date, reading, transaction_sets

#: HL03 levels whose TRN starts a claim: subscriber, dependent (277) and patient (277CA).
_CLAIM_LEVELS = frozenset({"22", "23", "PT"})


def parse_277(text: str) -> list[ClaimStatusReport]:
    """Every 277 transaction set of an interchange (277CA or 277), one report each."""
    return [_report(transaction) for transaction in transaction_sets(text, "277")]


def statuses(segment: Segment) -> list[StatusDetail]:
    """An STC segment's status composites (STC01, STC10, STC11), each with the segment's amounts and dates."""
    shared: dict[str, Any] = {
        "effective_date": segment.date(2),
        "action_code": segment[3],
        "total_charge": segment.decimal(4),
        "payment_amount": segment.decimal(5),
        "adjudication_date": segment.date(6),
        "payment_method": segment[7],
        "check_date": segment.date(8),
        "check_number": segment[9],
    }
    found: list[StatusDetail] = []
    for index in (1, 10, 11):
        parts = segment.components(index)
        if not parts:
            continue
        if not parts[0]:
            raise X12SyntaxError(f"{segment.where()}: element {index} has no status category code")
        with reading(segment):
            found.append(
                StatusDetail(
                    category_code=parts[0],
                    status_code=parts[1] if len(parts) > 1 else "",
                    entity_code=parts[2] if len(parts) > 2 else "",
                    message=(segment[12] or None) if index == 1 else None,
                    **shared,
                )
            )
    if not found:
        raise X12SyntaxError(f"{segment.where()}: the status segment has no status (STC01)")
    return found


def service_dates(segment: Segment) -> tuple[dt.date | None, dt.date | None]:
    """A DTP's date (D8) or date range (RD8) as (first, last)."""
    value = segment[3]
    if segment[2] == "RD8":
        first, _, last = value.partition("-")
        return parse_date(first, segment, 3), parse_date(last, segment, 3)
    day = parse_date(value, segment, 3)
    return day, day


class _Claim:
    """The claim being read: its segments gathered until the next claim or level."""

    def __init__(self, start: Segment) -> None:
        self.start = start
        self.fields: dict[str, Any] = {"patient_control_number": start[2], "position": start.position}
        self.statuses: list[StatusDetail] = []
        self.lines: list[dict[str, Any]] = []

    def add(self, segment: Segment) -> None:
        line = self.lines[-1] if self.lines else None
        target = line if line is not None else self.fields
        match segment.tag, segment[1]:
            case "STC", _:
                if line is not None:
                    line["statuses"].extend(statuses(segment))
                else:
                    self.statuses.extend(statuses(segment))
            case "REF", "1K":
                self.fields["payer_claim_id"] = segment[2]
            case "REF", "D9":
                self.fields["clearinghouse_trace_number"] = segment[2]
            case "REF", "EJ":
                self.fields["patient_control_number"] = self.fields["patient_control_number"] or segment[2]
            case "REF", "FJ" if line is not None:
                line["line_control_number"] = segment[2]
            case "DTP", "472":
                target["service_date"], target["service_date_end"] = service_dates(segment)
            case "SVC", _:
                procedure = segment.components(1)
                self.lines.append(
                    {
                        "procedure_qualifier": procedure[0] if procedure else "",
                        "procedure_code": procedure[1] if len(procedure) > 1 else "",
                        "modifiers": [m for m in procedure[2:6] if m],
                        "billed": segment.decimal(2),
                        "paid": segment.decimal(3),
                        "units": segment.decimal(7) if segment[7] else segment.decimal(5),
                        "statuses": [],
                    }
                )
            case _:
                pass

    def build(self) -> ClaimStatusAnswer:
        if not self.statuses:
            raise X12SyntaxError(f"{self.start.where()}: the claim has no status (STC)")
        with reading(self.start):
            return ClaimStatusAnswer(
                **self.fields, statuses=self.statuses, lines=[ServiceLineStatus(**line) for line in self.lines]
            )


def _report(transaction: TransactionSet) -> ClaimStatusReport:
    try:
        kind = ClaimStatusKind(transaction.version)
    except ValueError:
        raise X12SyntaxError(
            f"{transaction.segments[0].where()}: a 277 of implementation {transaction.version or 'unnamed'};"
            " claimflow reads 005010X214 (277CA) and 005010X212"
        ) from None
    header: dict[str, Any] = {"kind": kind, "control_number": transaction.control_number}
    claims: list[ClaimStatusAnswer] = []
    level = ""
    claim: _Claim | None = None
    for segment in transaction.segments:
        ends_claim = segment.tag in ("HL", "SE") or (segment.tag == "TRN" and level in _CLAIM_LEVELS)
        if ends_claim and claim is not None:
            claims.append(claim.build())
            claim = None
        match segment.tag:
            case "BHT":
                header["reference"], header["created"] = segment[3], segment.date(4)
            case "HL":
                level = segment[3]
            case "NM1" if level == "20" and segment[1] in ("PR", "AY"):
                header["payer_name"], header["payer_id"] = segment[3], segment[9]
            case "TRN" if level in _CLAIM_LEVELS:
                claim = _Claim(segment)
            case _ if claim is not None:
                claim.add(segment)
            case _:
                pass
    with reading(transaction.segments[0]):
        return ClaimStatusReport(**header, claims=claims)
