"""Read a 999 implementation acknowledgment (005010X231A1): accepted, accepted with errors or rejected, and why."""

from __future__ import annotations

from typing import Any

from activities.x12.models import (
    AcknowledgmentCode,
    ElementError,
    ImplementationAcknowledgment,
    SegmentError,
    TransactionSetAcknowledgment,
)
from activities.x12.reader import Segment, TransactionSet, X12SyntaxError, integer, reading, transaction_sets


def parse_999(text: str) -> list[ImplementationAcknowledgment]:
    """Every 999 transaction set of an interchange, one acknowledgment each."""
    return [_acknowledgment(transaction) for transaction in transaction_sets(text, "999")]


def _code(segment: Segment, index: int) -> AcknowledgmentCode:
    try:
        return AcknowledgmentCode(segment[index])
    except ValueError:
        raise X12SyntaxError(f"{segment.where()}: element {index} is not an acknowledgment code") from None


def _acknowledgment(transaction: TransactionSet) -> ImplementationAcknowledgment:
    group: dict[str, Any] = {}
    sets: list[TransactionSetAcknowledgment] = []
    current: dict[str, Any] | None = None
    segment_errors: list[dict[str, Any]] = []

    def close_set() -> None:
        nonlocal current
        if current is not None:
            raise X12SyntaxError(f"segment {current['start'].position} (AK2): the transaction set response has no IK5")

    for segment in transaction.segments:
        match segment.tag:
            case "AK1":
                group = {
                    "functional_id_code": segment[1],
                    "group_control_number": segment[2],
                    "group_version": segment[3],
                }
            case "AK2":
                close_set()
                current = {
                    "start": segment,
                    "set_code": segment[1],
                    "control_number": segment[2],
                    "implementation_version": segment[3],
                }
                segment_errors = []
            case "IK3":
                if current is None:
                    raise X12SyntaxError(f"{segment.where()}: a segment error outside a transaction set response (AK2)")
                segment_errors.append(
                    {
                        "segment_id": segment[1],
                        "position": integer(segment, 2) or 0,
                        "loop_id": segment[3],
                        "error_code": segment[4],
                        "element_errors": [],
                    }
                )
            case "IK4":
                if not segment_errors:
                    raise X12SyntaxError(f"{segment.where()}: an element error without its segment error (IK3)")
                position = segment.components(1)
                if not position or not position[0].isdigit() or not all(p.isdigit() for p in position if p):
                    raise X12SyntaxError(f"{segment.where()}: element 1 is not an element position")
                segment_errors[-1]["element_errors"].append(
                    ElementError(
                        position=int(position[0]),
                        component_position=int(position[1]) if len(position) > 1 and position[1] else None,
                        repetition_position=int(position[2]) if len(position) > 2 and position[2] else None,
                        element_reference=segment[2],
                        error_code=segment[3],
                        bad_value=segment[4] or None,
                    )
                )
            case "IK5":
                if current is None:
                    raise X12SyntaxError(f"{segment.where()}: a transaction set status without its response (AK2)")
                start = current.pop("start")
                with reading(start):
                    sets.append(
                        TransactionSetAcknowledgment(
                            **current,
                            status=_code(segment, 1),
                            syntax_error_codes=[segment[i] for i in range(2, 7) if segment[i]],
                            segment_errors=[SegmentError(**error) for error in segment_errors],
                        )
                    )
                current = None
            case "AK9":
                close_set()
                if not group:
                    raise X12SyntaxError(f"{segment.where()}: a functional group response without its AK1")
                with reading(segment):
                    return ImplementationAcknowledgment(
                        control_number=transaction.control_number,
                        **group,
                        group_status=_code(segment, 1),
                        sets_included=integer(segment, 2) or 0,
                        sets_received=integer(segment, 3) or 0,
                        sets_accepted=integer(segment, 4) or 0,
                        group_error_codes=[segment[i] for i in range(5, 10) if segment[i]],
                        transaction_sets=sets,
                    )
    raise X12SyntaxError(f"{transaction.segments[-1].where()}: the 999 has no functional group response (AK9)")
