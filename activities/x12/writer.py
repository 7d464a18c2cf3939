"""Writes X12 segments: elements and components joined by the interchange's separators, values checked first."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from pydantic import BaseModel, ConfigDict, model_validator

#: An element's value: text, or a composite's components (joined by the component separator).
Element = str | Sequence[str] | None


class Separators(BaseModel):
    """The four delimiters of an interchange (ISA16 the component, ISA11 the repetition separator)."""

    model_config = ConfigDict(frozen=True)

    element: str = "*"
    segment: str = "~"
    component: str = ":"
    repetition: str = "^"
    #: Written after each segment terminator (a line break keeps the interchange readable; "" writes none).
    line_break: str = "\n"

    @model_validator(mode="after")
    def _distinct_single_characters(self) -> Separators:
        delimiters = (self.element, self.segment, self.component, self.repetition)
        if any(len(d) != 1 or d.isalnum() or d.isspace() for d in delimiters) or len(set(delimiters)) != 4:
            raise ValueError("the separators must be four distinct single characters, none a letter, digit or space")
        if self.line_break not in ("", "\n", "\r\n"):
            raise ValueError("line_break is '', '\\n' or '\\r\\n'")
        return self

    @property
    def delimiters(self) -> str:
        return self.element + self.segment + self.component + self.repetition


class X12ValueError(ValueError):
    """A value that cannot be written as given; `problems` name each field and what is wrong with it."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


@dataclass
class SegmentWriter:
    """Collects segments; a value holding a delimiter or a line break is recorded as a problem, not written."""

    separators: Separators
    segments: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    def add(self, segment_id: str, *elements: Element, source: str = "") -> None:
        """Append one segment; trailing empty elements are dropped, as X12 requires. `source` names where the
        values came from, for a problem's message."""
        written = [self._element(value, segment_id, position, source) for position, value in enumerate(elements, 1)]
        while written and written[-1] == "":
            written.pop()
        self.segments.append(self.separators.element.join([segment_id, *written]))

    def _element(self, value: Element, segment_id: str, position: int, source: str) -> str:
        if value is None:
            return ""
        if isinstance(value, str):
            return self._clean(value, segment_id, position, source)
        components = [self._clean(part, segment_id, position, source) for part in value]
        while components and components[-1] == "":
            components.pop()
        return self.separators.component.join(components)

    def _clean(self, value: str, segment_id: str, position: int, source: str) -> str:
        text = value.strip()
        bad = sorted({c for c in text if c in self.separators.delimiters or c in "\r\n"})
        if bad:
            where = f"{source} " if source else ""
            self.problems.append(
                f"{where}({segment_id}{position:02d}) holds {''.join(bad)!r}, a delimiter of the interchange: "
                "remove it from the claim's value"
            )
            return ""
        return text

    def render(self) -> str:
        """The segments, each ended by the terminator (and the line break)."""
        end = self.separators.segment + self.separators.line_break
        return "".join(segment + end for segment in self.segments)


def amount(value: Decimal) -> str:
    """A monetary amount as X12 writes it (type R): no exponent, no trailing zeros after the point (45.00 -> 45)."""
    text = f"{value:.2f}".rstrip("0").rstrip(".")
    return text or "0"


def digits_only(value: str) -> str:
    """A postal code or a phone number with its punctuation removed (12345-6789 -> 123456789)."""
    return "".join(c for c in value if c.isdigit())
