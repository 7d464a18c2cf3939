"""The X12 005010 envelope: ISA/GS/ST … SE/GE/IEA around one transaction set, with given control numbers."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from activities.x12.writer import SegmentWriter, Separators, X12ValueError

#: An interchange id (ISA06/ISA08): 1 to 15 characters, written space-padded to 15.
InterchangeId = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=15)]
#: A functional group's application code (GS02/GS03): 2 to 15 characters.
ApplicationCode = Annotated[str, StringConstraints(strip_whitespace=True, min_length=2, max_length=15)]
#: The largest interchange control number ISA13 holds (nine digits).
MAX_CONTROL_NUMBER = 999_999_999


class Envelope(BaseModel):
    """Who sends the interchange to whom, and how: an integration's settings, never taken from a claim."""

    model_config = ConfigDict(frozen=True)

    sender_qualifier: Annotated[str, StringConstraints(min_length=2, max_length=2)] = "ZZ"
    sender_id: InterchangeId
    receiver_qualifier: Annotated[str, StringConstraints(min_length=2, max_length=2)] = "ZZ"
    receiver_id: InterchangeId
    #: GS02/GS03; None: the interchange ids.
    application_sender_code: ApplicationCode | None = None
    application_receiver_code: ApplicationCode | None = None
    #: ISA15: T test data, P production data.
    usage: Literal["T", "P"] = "T"
    #: ISA14: ask the receiver for an interchange acknowledgment (TA1).
    acknowledgment_requested: bool = False
    separators: Separators = Separators()


class ControlNumbers(BaseModel):
    """ISA13/IEA02, GS06/GE02 and ST02/SE02: numbers that never repeat between interchanges of one sender."""

    model_config = ConfigDict(frozen=True)

    interchange: Annotated[int, Field(ge=1, le=MAX_CONTROL_NUMBER)]
    group: Annotated[int, Field(ge=1, le=MAX_CONTROL_NUMBER)]
    transaction: Annotated[int, Field(ge=1, le=MAX_CONTROL_NUMBER)]

    @classmethod
    def from_sequence(cls, number: int) -> ControlNumbers:
        """One interchange, one group, one transaction: the same number serves all three."""
        return cls(interchange=number, group=number, transaction=number)

    @property
    def isa13(self) -> str:
        return f"{self.interchange:09d}"

    @property
    def gs06(self) -> str:
        return str(self.group)

    @property
    def st02(self) -> str:
        return f"{self.transaction:04d}"  # 4 to 9 characters


class TransactionSet(BaseModel):
    """What the envelope says about the one transaction set it carries."""

    model_config = ConfigDict(frozen=True)

    identifier: str  # ST01, e.g. 837
    functional_id: str  # GS01, e.g. HC
    implementation: str  # GS08/ST03, e.g. 005010X222A1


def header(
    writer: SegmentWriter, envelope: Envelope, control: ControlNumbers, at: datetime, ts: TransactionSet
) -> None:
    """Write ISA, GS and ST."""
    s = envelope.separators
    isa = [
        "00",
        " " * 10,
        "00",
        " " * 10,
        envelope.sender_qualifier,
        envelope.sender_id.ljust(15),
        envelope.receiver_qualifier,
        envelope.receiver_id.ljust(15),
        at.strftime("%y%m%d"),
        at.strftime("%H%M"),
        s.repetition,
        "00501",
        control.isa13,
        "1" if envelope.acknowledgment_requested else "0",
        envelope.usage,
        s.component,
    ]
    # ISA is fixed-width: its elements are written as they are (padding kept, the separators it declares).
    for position, value in enumerate(isa[:10] + isa[11:15], 1):
        if any(c in s.delimiters for c in value):
            raise X12ValueError([f"ISA element {position} ({value.strip()!r}) holds a delimiter of the interchange"])
    writer.segments.append(s.element.join(["ISA", *isa]))
    writer.add(
        "GS",
        ts.functional_id,
        envelope.application_sender_code or envelope.sender_id,
        envelope.application_receiver_code or envelope.receiver_id,
        at.strftime("%Y%m%d"),
        at.strftime("%H%M"),
        control.gs06,
        "X",
        ts.implementation,
    )
    writer.add("ST", ts.identifier, control.st02, ts.implementation)


def trailer(writer: SegmentWriter, control: ControlNumbers) -> None:
    """Write SE (counting the segments from ST to SE), GE and IEA."""
    st_index = next(
        i for i, segment in enumerate(writer.segments) if segment.startswith("ST" + writer.separators.element)
    )
    writer.add("SE", str(len(writer.segments) - st_index + 1), control.st02)
    writer.add("GE", "1", control.gs06)
    writer.add("IEA", "1", control.isa13)
