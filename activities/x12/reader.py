"""X12 segment reader: splits an interchange into segments with the separators its ISA declares."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from pydantic import ValidationError

from domain.money import CENT

#: The ISA segment is fixed width: 106 characters, the segment terminator last.
ISA_LENGTH = 106
_ELEMENT_SEPARATOR_AT = 3
_REPETITION_SEPARATOR_AT = 82
_COMPONENT_SEPARATOR_AT = 104
_SEGMENT_TERMINATOR_AT = 105
_ISA_ELEMENTS = 16


class X12SyntaxError(ValueError):
    """An interchange that cannot be read. The message names the segment's position and tag, never its content."""


@dataclass(frozen=True)
class Delimiters:
    """The four separators of an interchange (ISA01, ISA11, ISA16 and the ISA terminator)."""

    element: str = "*"
    component: str = ":"
    repetition: str = "^"
    segment: str = "~"


@dataclass(frozen=True)
class Segment:
    """One segment: its tag, its elements (1-based, as the implementation guides number them), its position.

    The repr shows the tag and position only, so a segment in an error or a log line carries no patient data.
    """

    tag: str
    elements: tuple[str, ...] = field(repr=False)
    position: int
    delimiters: Delimiters = field(repr=False, compare=False, default=Delimiters())

    def __getitem__(self, index: int) -> str:
        """Element `index` (1-based); an absent trailing element is ``""``."""
        if index < 1:
            raise IndexError("X12 elements are numbered from 1")
        return self.elements[index - 1] if index <= len(self.elements) else ""

    def components(self, index: int) -> tuple[str, ...]:
        """The components of a composite element (``HC:80053:91`` → ``("HC", "80053", "91")``)."""
        value = self[index]
        return tuple(value.split(self.delimiters.component)) if value else ()

    def component(self, index: int, sub: int) -> str:
        """Component `sub` (1-based) of element `index`; ``""`` when absent."""
        parts = self.components(index)
        return parts[sub - 1] if sub <= len(parts) else ""

    def where(self) -> str:
        """Where this segment is, for error messages: ``segment 14 (CLP)``."""
        return f"segment {self.position} ({self.tag})"

    def decimal(self, index: int) -> Decimal | None:
        """Element `index` as a Decimal amount, or None when empty."""
        value = self[index]
        if not value:
            return None
        try:
            amount = Decimal(value)
        except InvalidOperation:
            raise X12SyntaxError(f"{self.where()}: element {index} is not a number") from None
        if not amount.is_finite():
            raise X12SyntaxError(f"{self.where()}: element {index} is not a number")
        return amount

    def amount(self, index: int) -> Decimal:
        """Element `index` as a money amount with cents; an empty element is 0.00."""
        value = self.decimal(index)
        if value is None:
            return Decimal("0.00")
        if value != value.quantize(CENT):
            raise X12SyntaxError(f"{self.where()}: element {index} has fractions of a cent")
        return value.quantize(CENT)

    def date(self, index: int) -> dt.date | None:
        """Element `index` as a CCYYMMDD date, or None when empty."""
        return parse_date(self[index], self, index)


def parse_date(value: str, segment: Segment, index: int) -> dt.date | None:
    """A CCYYMMDD date of `segment`'s element `index`; None when empty."""
    if not value:
        return None
    try:
        if len(value) != 8 or not value.isdigit():
            raise ValueError
        return dt.date(int(value[:4]), int(value[4:6]), int(value[6:]))
    except ValueError:
        raise X12SyntaxError(f"{segment.where()}: element {index} is not a CCYYMMDD date") from None


@dataclass(frozen=True)
class TransactionSet:
    """One ST…SE transaction set, with the GS that carries it."""

    code: str
    control_number: str
    version: str
    group: Segment
    segments: tuple[Segment, ...] = field(repr=False)


@dataclass(frozen=True)
class Interchange:
    """A whole ISA…IEA interchange."""

    delimiters: Delimiters
    control_number: str
    segments: tuple[Segment, ...] = field(repr=False)

    def transaction_sets(self, code: str | None = None) -> list[TransactionSet]:
        """The transaction sets (ST…SE) of this interchange, of one code (``"835"``) or all."""
        found: list[TransactionSet] = []
        group: Segment | None = None
        start: Segment | None = None
        body: list[Segment] = []
        for segment in self.segments:
            if segment.tag == "GS":
                group = segment
            elif segment.tag == "ST":
                if start is not None:
                    raise X12SyntaxError(f"{segment.where()}: a transaction set starts before the last one ended (SE)")
                if group is None:
                    raise X12SyntaxError(f"{segment.where()}: a transaction set outside a functional group (GS)")
                start, body = segment, [segment]
            elif segment.tag == "SE":
                if start is None or group is None:
                    raise X12SyntaxError(f"{segment.where()}: a transaction set trailer without its header (ST)")
                body.append(segment)
                _check_trailer(start, segment, len(body))
                if code is None or start[1] == code:
                    version = start[3] or group[8]
                    found.append(TransactionSet(start[1], start[2], version, group, tuple(body)))
                start, body = None, []
            elif start is not None:
                body.append(segment)
        if start is not None:
            raise X12SyntaxError(f"{start.where()}: the transaction set has no trailer (SE)")
        return found


def _check_trailer(header: Segment, trailer: Segment, count: int) -> None:
    if trailer[2] != header[2]:
        raise X12SyntaxError(
            f"{trailer.where()}: SE02 does not match the control number of its header at segment {header.position}"
        )
    if trailer[1] != str(count):
        raise X12SyntaxError(
            f"{trailer.where()}: SE01 counts {trailer[1] or 'nothing'}, the transaction set has {count}"
        )


def read_delimiters(text: str) -> Delimiters:
    """The separators an interchange declares in its fixed-width ISA segment."""
    if not text.startswith("ISA"):
        raise X12SyntaxError("segment 1: an X12 interchange starts with ISA")
    if len(text) < ISA_LENGTH:
        raise X12SyntaxError("segment 1 (ISA): shorter than the 106 characters of an ISA segment")
    element = text[_ELEMENT_SEPARATOR_AT]
    component = text[_COMPONENT_SEPARATOR_AT]
    repetition = text[_REPETITION_SEPARATOR_AT]
    segment = text[_SEGMENT_TERMINATOR_AT]
    separators = [element, component, segment]
    if repetition != "U":  # 4010's ISA11 is a standards id ("U"), 5010's the repetition separator
        separators.append(repetition)
    if len(set(separators)) != len(separators) or any(c.isalnum() or c == " " for c in separators):
        raise X12SyntaxError("segment 1 (ISA): the separators it declares are not distinct punctuation")
    if text[:_SEGMENT_TERMINATOR_AT].count(element) != _ISA_ELEMENTS:
        raise X12SyntaxError("segment 1 (ISA): not the 16 fixed-width elements of an ISA segment")
    return Delimiters(element=element, component=component, repetition=repetition, segment=segment)


def split_segments(text: str, delimiters: Delimiters) -> Iterator[Segment]:
    """Every segment of `text`, numbered from 1; line breaks between segments are ignored."""
    position = 0
    for raw in text.split(delimiters.segment):
        chunk = raw.strip("\r\n")
        if not chunk:
            continue
        position += 1
        tag, *elements = chunk.split(delimiters.element)
        if not (2 <= len(tag) <= 3 and tag.isalnum() and tag == tag.upper()):
            raise X12SyntaxError(f"segment {position}: does not start with a segment tag")
        yield Segment(tag=tag, elements=tuple(elements), position=position, delimiters=delimiters)


def read_interchange(text: str) -> Interchange:
    """Read an ISA…IEA interchange: its separators, its segments, its envelopes checked."""
    text = text.lstrip("\ufeff \r\n\t")
    delimiters = read_delimiters(text)
    segments = tuple(split_segments(text, delimiters))
    _check_envelopes(segments)
    return Interchange(delimiters=delimiters, control_number=segments[0][13], segments=segments)


def _check_envelopes(segments: Sequence[Segment]) -> None:
    isa, last = segments[0], segments[-1]
    if last.tag != "IEA":
        raise X12SyntaxError(f"{last.where()}: the interchange does not end with IEA")
    if last[2] != isa[13]:
        raise X12SyntaxError(f"{last.where()}: IEA02 does not match the interchange control number (ISA13)")
    group: Segment | None = None
    groups = sets = 0
    for segment in segments[1:-1]:
        if segment.tag in ("ISA", "IEA"):
            raise X12SyntaxError(f"{segment.where()}: a second interchange envelope inside the interchange")
        if segment.tag == "GS":
            if group is not None:
                raise X12SyntaxError(f"{segment.where()}: a functional group starts before the last one ended (GE)")
            group, sets = segment, 0
        elif segment.tag == "GE":
            if group is None:
                raise X12SyntaxError(f"{segment.where()}: a functional group trailer without its header (GS)")
            if segment[2] != group[6]:
                raise X12SyntaxError(f"{segment.where()}: GE02 does not match the group control number (GS06)")
            if segment[1] != str(sets):
                raise X12SyntaxError(f"{segment.where()}: GE01 counts {segment[1] or 'nothing'}, the group has {sets}")
            group, groups = None, groups + 1
        elif segment.tag == "ST":
            sets += 1
        elif group is None:
            raise X12SyntaxError(f"{segment.where()}: a segment outside a functional group (GS…GE)")
    if group is not None:
        raise X12SyntaxError(f"{group.where()}: the functional group has no trailer (GE)")
    if last[1] != str(groups):
        raise X12SyntaxError(f"{last.where()}: IEA01 counts {last[1] or 'nothing'}, the interchange has {groups}")


def transaction_sets(text: str, code: str) -> list[TransactionSet]:
    """Read an interchange and return its transaction sets of one code; none is an error."""
    sets = read_interchange(text).transaction_sets(code)
    if not sets:
        raise X12SyntaxError(f"the interchange holds no {code} transaction set")
    return sets


@contextmanager
def reading(segment: Segment) -> Iterator[None]:
    """Turn a model's refusal of what a segment says into an X12SyntaxError naming the segment and the field only."""
    try:
        yield
    except ValidationError as error:
        fields = sorted({".".join(str(part) for part in detail["loc"]) for detail in error.errors()})
        raise X12SyntaxError(f"{segment.where()}: not a valid {', '.join(fields) or 'value'}") from None


def integer(segment: Segment, index: int) -> int | None:
    """Element `index` as a whole number, or None when empty."""
    value = segment[index]
    if not value:
        return None
    if not value.isdigit():
        raise X12SyntaxError(f"{segment.where()}: element {index} is not a whole number")
    return int(value)
