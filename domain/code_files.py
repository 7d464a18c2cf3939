"""Parsers for the published code files: CMS's HCPCS record layout, a licensed CPT CSV, CMS's ICD-10-CM order file."""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date

from pydantic import ValidationError

from domain.codes import ICD10_CODE, PROCEDURE_CODE, CodeEntry, canonical_icd10, canonical_procedure


class CodeFileError(ValueError):
    """A line of a code file that does not follow its layout; names the line, the field and what is wrong."""

    def __init__(self, line: int, field: str, problem: str) -> None:
        super().__init__(f"line {line}: {field}: {problem}")
        self.line = line
        self.field = field
        self.problem = problem


@dataclass(frozen=True, slots=True)
class CodeRecord:
    """One code read from a file, with the line it starts on."""

    line: int
    entry: CodeEntry


# --- HCPCS Level II: CMS's quarterly contractor file (HCPC<YYYY>_<MON>_ANWEB*.txt), 320-character records ---
#
# Positions (1-based, inclusive) from CMS's HCPC<YYYY>_recordlayout.txt: code 1-5, sequence 6-10, record id 11
# (3 first line of a code, 4 its continuation, 7/8 the same for modifiers), long description 12-91, short
# description 92-119, code added date 269-276, action effective date 277-284, termination date 285-292
# (the last day the code may be billed), action code 293. Dates are YYYYMMDD, blank when absent.

HCPCS_CODE = (0, 5)
HCPCS_RECORD_ID = (10, 11)
HCPCS_LONG = (11, 91)
HCPCS_SHORT = (91, 119)
HCPCS_ADD_DATE = (268, 276)
HCPCS_ACTION_DATE = (276, 284)
HCPCS_TERM_DATE = (284, 292)
#: Record ids: a code's first line, its description's continuation, a modifier's first line and continuation.
HCPCS_CODE_FIRST, HCPCS_CODE_MORE, HCPCS_MODIFIER_FIRST, HCPCS_MODIFIER_MORE = "3", "4", "7", "8"


def _cut(text: str, span: tuple[int, int]) -> str:
    return text[span[0] : span[1]].strip()


def _yyyymmdd(value: str, line: int, field: str) -> date | None:
    if not value:
        return None
    if not re.fullmatch(r"[0-9]{8}", value):
        raise CodeFileError(line, field, f"{value!r} is not a date (YYYYMMDD)")
    try:
        return date(int(value[:4]), int(value[4:6]), int(value[6:]))
    except ValueError:
        raise CodeFileError(line, field, f"{value!r} is not a calendar date") from None


def _entry(line: int, **fields: object) -> CodeEntry:
    try:
        return CodeEntry.model_validate(fields)
    except ValidationError as exc:
        raise CodeFileError(line, "dates", exc.errors()[0]["msg"]) from None


def parse_hcpcs(lines: Iterable[str]) -> Iterator[CodeRecord]:
    """The HCPCS codes of a CMS contractor file, long description joined across continuation lines.

    Modifier records (7/8) are skipped: a modifier is no procedure code. A code's effective date is
    the date CMS added it (or, when blank, its action effective date); its termination date is CMS's.
    """
    pending: tuple[int, dict[str, object]] | None = None
    for number, raw in enumerate(lines, start=1):
        text = raw.rstrip("\r\n")
        if not text.strip():
            continue
        record_id = _cut(text, HCPCS_RECORD_ID)
        if record_id in (HCPCS_MODIFIER_FIRST, HCPCS_MODIFIER_MORE):
            continue
        code = canonical_procedure(_cut(text, HCPCS_CODE))
        if record_id == HCPCS_CODE_MORE:
            if pending is None or pending[1]["code"] != code:
                raise CodeFileError(number, "record id", f"a continuation of {code} without its first line")
            pending[1]["description"] = f"{pending[1]['description']} {_cut(text, HCPCS_LONG)}"
            continue
        if record_id != HCPCS_CODE_FIRST:
            raise CodeFileError(number, "record id", f"{record_id!r} is not 3, 4, 7 or 8 (position 11)")
        if len(text) < HCPCS_TERM_DATE[1]:
            raise CodeFileError(number, "record", f"{len(text)} characters; a code's first line has 320")
        if PROCEDURE_CODE.fullmatch(code) is None or not code[:1].isalpha():
            raise CodeFileError(number, "code", f"{code!r} is not a HCPCS Level II code (a letter and 4 digits)")
        if pending is not None:
            yield _finish(*pending)
        added = _yyyymmdd(_cut(text, HCPCS_ADD_DATE), number, "add date")
        acted = _yyyymmdd(_cut(text, HCPCS_ACTION_DATE), number, "action effective date")
        pending = (
            number,
            {
                "code": code,
                "description": _cut(text, HCPCS_LONG) or _cut(text, HCPCS_SHORT),
                "effective_date": added or acted,
                "termination_date": _yyyymmdd(_cut(text, HCPCS_TERM_DATE), number, "termination date"),
            },
        )
    if pending is not None:
        yield _finish(*pending)


def _finish(line: int, fields: dict[str, object]) -> CodeRecord:
    return CodeRecord(line, _entry(line, **fields))


# --- CPT: a CSV the licensee owns -----------------------------------------------------------------------------

#: The columns a CPT file must have (a header row names them; others are ignored). Dates are YYYY-MM-DD;
#: termination_date may be empty.
CPT_COLUMNS = ("code", "description", "effective_date", "termination_date")


def _iso(value: str, line: int, field: str, *, required: bool) -> date | None:
    value = value.strip()
    if not value:
        if required:
            raise CodeFileError(line, field, "is empty; give the date as YYYY-MM-DD")
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise CodeFileError(line, field, f"{value!r} is not a date (YYYY-MM-DD)") from None


def parse_cpt_csv(lines: Iterable[str]) -> Iterator[CodeRecord]:
    """The CPT codes of a CSV with the columns CPT_COLUMNS; line numbers count the header as line 1."""
    reader = csv.DictReader(lines)
    missing = [column for column in CPT_COLUMNS if column not in (reader.fieldnames or [])]
    if missing:
        raise CodeFileError(
            1, "header", f"missing column(s) {', '.join(missing)}; the header is {','.join(CPT_COLUMNS)}"
        )
    for row in reader:
        number = reader.line_num
        code = canonical_procedure(row["code"] or "")
        if PROCEDURE_CODE.fullmatch(code) is None or code[:1].isalpha():
            raise CodeFileError(number, "code", f"{code!r} is not a CPT code (5 digits, or 4 digits and F, T or U)")
        description = (row["description"] or "").strip()
        if not description:
            raise CodeFileError(number, "description", "is empty")
        yield CodeRecord(
            number,
            _entry(
                number,
                code=code,
                description=description,
                effective_date=_iso(row["effective_date"] or "", number, "effective_date", required=True),
                termination_date=_iso(row["termination_date"] or "", number, "termination_date", required=False),
            ),
        )


# --- ICD-10-CM: CMS's order file of one fiscal-year release (icd10cm_order_YYYY.txt) ---------------------------
#
# Positions: order number 1-5, code 7-13 (no dot), 15 "1" when valid for submission else "0" (a header),
# short description 17-76, long description from 78. Release YYYY takes effect on October 1 of YYYY - 1.


def fiscal_year_start(fiscal_year: int) -> date:
    """The first day of service a fiscal-year release of ICD-10-CM applies to (October 1 of the year before)."""
    return date(fiscal_year - 1, 10, 1)


def parse_icd10_order(lines: Iterable[str], fiscal_year: int) -> Iterator[CodeRecord]:
    """The codes of one ICD-10-CM order file, effective from the release's first day, billable as it says."""
    starts = fiscal_year_start(fiscal_year)
    for number, raw in enumerate(lines, start=1):
        text = raw.rstrip("\r\n")
        if not text.strip():
            continue
        if len(text) < 17 or not text[:5].strip().isdigit():
            raise CodeFileError(number, "record", "not an order-file record (order number in 1-5, code in 7-13)")
        code = canonical_icd10(text[6:13])
        if ICD10_CODE.fullmatch(code) is None:
            raise CodeFileError(number, "code", f"{text[6:13].strip()!r} is not an ICD-10-CM code")
        flag = text[14]
        if flag not in "01":
            raise CodeFileError(number, "header flag", f"{flag!r} at position 15 is not 0 (header) or 1 (billable)")
        description = (text[77:].strip() or text[16:76].strip())[:255]
        yield CodeRecord(
            number, _entry(number, code=code, description=description, effective_date=starts, billable=flag == "1")
        )


def fiscal_year_of(name: str) -> int | None:
    """The release year in a CMS order file's name (icd10cm_order_2026.txt -> 2026), None when it has none."""
    found = re.search(r"(20[0-9]{2})", name)
    return int(found.group(1)) if found else None
