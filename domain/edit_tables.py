"""The CMS edit tables a claim scrubber applies (NCCI PTP pairs, MUEs, MCE code lists), dated, with lookups."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from enum import IntEnum, StrEnum

from pydantic import BaseModel, ConfigDict, Field


def edit_key(code: str) -> str:
    """The lookup key of a code in the edit tables: upper case, no dot, no surrounding space."""
    return code.strip().upper().replace(".", "")


class ModifierIndicator(StrEnum):
    """An NCCI PTP pair's modifier indicator: whether an NCCI-associated modifier may bypass the pair."""

    NEVER = "0"  # the two codes are never billed together
    ALLOWED = "1"  # a modifier such as 59, XE, XS, XP, XU or 91 may bypass the pair
    NOT_APPLICABLE = "9"  # the edit does not apply (CMS uses it on deleted pairs)


#: Modifiers CMS lists as NCCI PTP-associated: each may bypass a pair whose indicator is 1.
PTP_BYPASS_MODIFIERS = frozenset(
    {"59", "XE", "XS", "XP", "XU", "91", "24", "25", "27", "57", "58", "78", "79"}
    | {"E1", "E2", "E3", "E4", "FA", "TA", "LT", "RT", "LC", "LD", "RC", "LM", "RI"}
    | {f"F{n}" for n in range(1, 10)}
    | {f"T{n}" for n in range(1, 10)}
)
#: Modifiers that say a test was repeated on the same day on purpose (91 the repeat test; 59/X{EPSU} distinct).
REPEAT_TEST_MODIFIERS = frozenset({"91", "59", "XE", "XS", "XP", "XU"})


class PtpEdit(BaseModel):
    """One NCCI procedure-to-procedure pair: `column2` is not paid beside `column1` on the same day.

    `deletion_date` is the first day the pair no longer applies (None: still in force).
    """

    model_config = ConfigDict(frozen=True)

    column1: str = Field(min_length=1, max_length=5)
    column2: str = Field(min_length=1, max_length=5)
    effective_date: date
    deletion_date: date | None = None
    modifier_indicator: ModifierIndicator

    def active_on(self, on: date) -> bool:
        """Whether the pair applies to services on `on` (indicator 9 never does)."""
        if self.modifier_indicator is ModifierIndicator.NOT_APPLICABLE or on < self.effective_date:
            return False
        return self.deletion_date is None or on < self.deletion_date


class MueAdjudication(IntEnum):
    """An MUE's adjudication indicator (MAI): per claim line, or per day across the claim's lines."""

    LINE = 1
    DAY_POLICY = 2
    DAY_CLINICAL = 3

    @property
    def per_day(self) -> bool:
        return self is not MueAdjudication.LINE


class MueEdit(BaseModel):
    """A medically unlikely edit (practitioner services): at most `units` of the code per line or per day.

    `effective_date` is the first day of the quarter whose file carried the value; a later
    quarter's value replaces it from its own first day.
    """

    model_config = ConfigDict(frozen=True)

    code: str = Field(min_length=1, max_length=5)
    units: int = Field(ge=0)
    mai: MueAdjudication
    effective_date: date


class MceEditKind(StrEnum):
    """The Medicare Code Editor's code lists a diagnosis may be on."""

    NEWBORN = "newborn"
    PEDIATRIC = "pediatric"
    MATERNITY = "maternity"
    ADULT = "adult"
    FEMALE = "female"
    MALE = "male"
    MANIFESTATION = "manifestation"


#: The ages (in whole years on the service date, both ends inclusive) each MCE age list admits.
#: Maternity is 9-64 since the MCE of fiscal year 2023 (12-55 before).
MCE_AGE_RANGES: dict[MceEditKind, tuple[int, int]] = {
    MceEditKind.NEWBORN: (0, 0),
    MceEditKind.PEDIATRIC: (0, 17),
    MceEditKind.MATERNITY: (9, 64),
    MceEditKind.ADULT: (15, 124),
}
#: The patient sex (as the 837P carries it) each MCE sex list admits.
MCE_SEXES: dict[MceEditKind, str] = {MceEditKind.FEMALE: "F", MceEditKind.MALE: "M"}


class MceEdit(BaseModel):
    """A diagnosis code on one MCE list, for the fiscal years it is listed (both dates inclusive)."""

    model_config = ConfigDict(frozen=True)

    code: str = Field(min_length=3, max_length=8)
    kind: MceEditKind
    effective_date: date
    termination_date: date | None = None

    def active_on(self, on: date) -> bool:
        return self.effective_date <= on and (self.termination_date is None or on <= self.termination_date)


def age_on(date_of_birth: date, on: date) -> int:
    """Whole years of age on a date (a birthday counts from its own day)."""
    before_birthday = (on.month, on.day) < (date_of_birth.month, date_of_birth.day)
    return on.year - date_of_birth.year - before_birthday


class EditTables:
    """The loaded edit tables with O(1) lookups by code; every lookup takes the service date."""

    __slots__ = ("_mce", "_mue", "_ptp", "counts")

    def __init__(self, ptp: Iterable[PtpEdit] = (), mue: Iterable[MueEdit] = (), mce: Iterable[MceEdit] = ()) -> None:
        self._ptp: dict[tuple[str, str], list[PtpEdit]] = {}
        for pair in ptp:
            self._ptp.setdefault((edit_key(pair.column1), edit_key(pair.column2)), []).append(pair)
        self._mue: dict[str, list[MueEdit]] = {}
        for edit in mue:
            self._mue.setdefault(edit_key(edit.code), []).append(edit)
        for values in self._mue.values():
            values.sort(key=lambda e: e.effective_date, reverse=True)
        self._mce: dict[str, list[MceEdit]] = {}
        for listing in mce:
            self._mce.setdefault(edit_key(listing.code), []).append(listing)
        #: How many rows of each table are loaded (ptp, mue, mce).
        self.counts: tuple[int, int, int] = (
            sum(map(len, self._ptp.values())),
            sum(map(len, self._mue.values())),
            sum(map(len, self._mce.values())),
        )

    def ptp(self, column1: str, column2: str, on: date) -> PtpEdit | None:
        """The pair `column1` -> `column2` in force on `on`, if any (the order matters)."""
        for pair in self._ptp.get((edit_key(column1), edit_key(column2)), ()):
            if pair.active_on(on):
                return pair
        return None

    def mue(self, code: str, on: date) -> MueEdit | None:
        """The MUE of the latest quarter that began on or before `on`, if the code has one."""
        for edit in self._mue.get(edit_key(code), ()):
            if edit.effective_date <= on:
                return edit
        return None

    def mce(self, code: str, on: date) -> frozenset[MceEditKind]:
        """The MCE lists the diagnosis is on for a service on `on`."""
        return frozenset(e.kind for e in self._mce.get(edit_key(code), ()) if e.active_on(on))
