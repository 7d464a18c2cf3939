"""The CMS edit tables in the database: the quarterly files' readers and importers, the seed extract, per-claim loading.

Files (CMS's own column layouts, comma- or tab-separated, the copyright lines above the header skipped,
a .zip read member by member):
- NCCI PTP, practitioner: Column 1, Column 2, *=in existence prior to 1996, Effective Date, Deletion Date
  (*=no data), Modifier (0, 1, 9), PTP Edit Rationale; dates as YYYYMMDD.
- MUE, practitioner services: HCPCS/CPT Code, Practitioner Services MUE Values, MUE Adjudication Indicator
  ("2 Date of Service Edit: Policy"), MUE Rationale; the file carries no dates: its quarter's first day is given.
- MCE lists: ICD-10-CM Code, Description, MCE Edit (Newborn, Pediatric, Maternity, Adult, Female, Male,
  Manifestation), Effective Date, Termination Date (YYYYMMDD, empty for none) — the Medicare Code Editor's
  definitions tables, one row per code and list.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime
from itertools import islice
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from db.base import Base
from db.models import MceEdit, MueEdit, NcciPtpEdit
from domain import edit_tables as edits
from domain.claim import Claim
from domain.codes import canonical_icd10

SEED_DIR = Path(__file__).resolve().parent / "seed"
PTP_EXTRACT = SEED_DIR / "ncci_ptp_extract.csv"
MUE_EXTRACT = SEED_DIR / "mue_extract.csv"
MCE_EXTRACT = SEED_DIR / "mce_extract.csv"
#: The first day of the quarter whose MUE file the extract was taken from.
MUE_EXTRACT_QUARTER = date(2026, 10, 1)
#: Rows written per statement by an import.
BATCH = 5000

_CODE = re.compile(r"[0-9A-Z]{5}")
_MAI = re.compile(r"\s*([123])\b")
#: How an MCE file names its lists.
_MCE_KINDS = {kind.value: kind for kind in edits.MceEditKind}

#: Told how many rows an import has written so far.
Progress = Callable[[int], None]


class EditFileError(ValueError):
    """A CMS edit file this reader cannot use: which file, which row, what was expected (never a row's values)."""


def read_lines(path: Path) -> Iterator[str]:
    """The text lines of a file, or of every .txt/.csv member of a .zip, in name order (UTF-8, else Latin-1)."""
    if path.suffix.lower() == ".zip":
        with zipfile.ZipFile(path) as archive:
            for name in sorted(archive.namelist()):
                if name.lower().endswith((".txt", ".csv")):
                    yield from _decode(archive.read(name)).splitlines()
        return
    yield from _decode(path.read_bytes()).splitlines()


def _decode(data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("latin-1")


def _records(lines: Iterable[str], header: str) -> Iterator[tuple[int, list[str]]]:
    """The rows after each header line that starts with `header` (a .zip's members each have one), numbered."""
    delimiter: str | None = None
    for number, line in enumerate(lines, start=1):
        if line.lstrip('"').startswith(header):
            delimiter = "\t" if "\t" in line else ","
            continue
        if delimiter is None or not line.strip():
            continue
        yield number, [cell.strip() for cell in next(csv.reader(io.StringIO(line), delimiter=delimiter))]


def _date(value: str, *, number: int, column: str) -> date | None:
    if value in ("", "*"):
        return None
    try:
        return datetime.strptime(value, "%Y%m%d").date()
    except ValueError:
        raise EditFileError(f"row {number}: {column} is not a date YYYYMMDD (or * for none)") from None


def _required_date(value: str, *, number: int, column: str) -> date:
    found = _date(value, number=number, column=column)
    if found is None:
        raise EditFileError(f"row {number}: {column} is required")
    return found


def parse_ptp(lines: Iterable[str]) -> Iterator[tuple[edits.PtpEdit, str]]:
    """The pairs of an NCCI PTP file with their rationale; rows not starting with two codes (a 2nd header) skipped."""
    for number, row in _records(lines, "Column 1"):
        if len(row) < 6 or not (_CODE.fullmatch(row[0]) and _CODE.fullmatch(row[1])):
            continue
        try:
            indicator = edits.ModifierIndicator(row[5])
        except ValueError:
            raise EditFileError(f"row {number}: the modifier indicator is not 0, 1 or 9") from None
        pair = edits.PtpEdit(
            column1=row[0],
            column2=row[1],
            effective_date=_required_date(row[3], number=number, column="Effective Date"),
            deletion_date=_date(row[4], number=number, column="Deletion Date"),
            modifier_indicator=indicator,
        )
        yield pair, (row[6] if len(row) > 6 else "")[:255]


def parse_mue(lines: Iterable[str], quarter: date) -> Iterator[tuple[edits.MueEdit, str]]:
    """The MUEs of a practitioner-services file for the quarter beginning on `quarter`, with their rationale."""
    for number, row in _records(lines, "HCPCS/CPT Code"):
        if len(row) < 3 or not _CODE.fullmatch(row[0]):
            continue
        mai = _MAI.match(row[2])
        if not row[1].isdigit() or mai is None:
            raise EditFileError(f"row {number}: expected a whole number of units and an MAI of 1, 2 or 3")
        edit = edits.MueEdit(
            code=row[0], units=int(row[1]), mai=edits.MueAdjudication(int(mai.group(1))), effective_date=quarter
        )
        yield edit, (row[3] if len(row) > 3 else "")[:100]


def parse_mce(lines: Iterable[str]) -> Iterator[edits.MceEdit]:
    """The listings of an MCE file (one code on one list, with its dates)."""
    for number, row in _records(lines, "ICD-10-CM Code"):
        if len(row) < 4 or not row[0]:
            continue
        kind = _MCE_KINDS.get(row[2].lower())
        if kind is None:
            raise EditFileError(f"row {number}: MCE Edit is not one of {', '.join(_MCE_KINDS)}")
        yield edits.MceEdit(
            code=canonical_icd10(row[0]),
            kind=kind,
            effective_date=_required_date(row[3], number=number, column="Effective Date"),
            termination_date=_date(row[4] if len(row) > 4 else "", number=number, column="Termination Date"),
        )


# --- rows as the tables hold them ---------------------------------------------------------------


def ptp_rows(lines: Iterable[str]) -> Iterator[dict[str, Any]]:
    for pair, rationale in parse_ptp(lines):
        yield {
            "column1": pair.column1,
            "column2": pair.column2,
            "effective_date": pair.effective_date,
            "deletion_date": pair.deletion_date,
            "modifier_indicator": pair.modifier_indicator.value,
            "rationale": rationale,
        }


def mue_rows(lines: Iterable[str], quarter: date) -> Iterator[dict[str, Any]]:
    for edit, rationale in parse_mue(lines, quarter):
        yield {
            "code": edit.code,
            "effective_date": edit.effective_date,
            "units": edit.units,
            "mai": int(edit.mai),
            "rationale": rationale,
        }


def mce_rows(lines: Iterable[str]) -> Iterator[dict[str, Any]]:
    for listing in parse_mce(lines):
        yield listing.model_dump(mode="python") | {"kind": listing.kind.value}


def edit_seed_rows() -> list[tuple[type[Base], list[dict[str, Any]]]]:
    """The extract shipped in db/seed, per table (for `claimflow dev` and the tests)."""
    return [
        (NcciPtpEdit, list(ptp_rows(read_lines(PTP_EXTRACT)))),
        (MueEdit, list(mue_rows(read_lines(MUE_EXTRACT), MUE_EXTRACT_QUARTER))),
        (MceEdit, list(mce_rows(read_lines(MCE_EXTRACT)))),
    ]


# --- importers for the full quarterly files -----------------------------------------------------

_QUARTER = re.compile(r"(\d{4})\s*-?\s*Q([1-4])", re.IGNORECASE)


def quarter_start(version: str | None) -> date:
    """The first day of the quarter a version names: `2026Q4`, `2026-Q4` or an ISO date such as 2026-10-01."""
    text = (version or "").strip()
    if match := _QUARTER.fullmatch(text):
        return date(int(match.group(1)), 3 * int(match.group(2)) - 2, 1)
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise EditFileError("an MUE file carries no dates: name its quarter with --version (e.g. 2026Q4)") from None


def _ptp_file(path: Path, _: str | None) -> tuple[type[Base], tuple[str, ...], Iterator[dict[str, Any]]]:
    return NcciPtpEdit, ("column1", "column2", "effective_date"), ptp_rows(read_lines(path))


def _mue_file(path: Path, version: str | None) -> tuple[type[Base], tuple[str, ...], Iterator[dict[str, Any]]]:
    return MueEdit, ("code", "effective_date"), mue_rows(read_lines(path), quarter_start(version))


def _mce_file(path: Path, _: str | None) -> tuple[type[Base], tuple[str, ...], Iterator[dict[str, Any]]]:
    return MceEdit, ("code", "kind", "effective_date"), mce_rows(read_lines(path))


@dataclass(frozen=True, slots=True)
class EditImporter:
    """One CMS edit file kind `claimflow codes import` loads: what it is, and its rows from a file and version."""

    summary: str
    rows: Callable[[Path, str | None], tuple[type[Base], tuple[str, ...], Iterator[dict[str, Any]]]]


#: The edit tables `claimflow codes import` can load, by name (the `--system` value).
EDIT_IMPORTERS: dict[str, EditImporter] = {
    "ncci-ptp": EditImporter("NCCI PTP practitioner edits (every pair, deleted ones too; each row dated)", _ptp_file),
    "mue": EditImporter("MUE practitioner services, in force from the quarter named by --version", _mue_file),
    "mce": EditImporter("Medicare Code Editor lists (age, sex, manifestation), each row dated", _mce_file),
}


async def import_edit_file(
    session: AsyncSession, name: str, path: Path, version: str | None, progress: Progress = lambda _: None
) -> int:
    """Insert or update every row of one CMS edit file in batches (the caller commits); returns the rows written.

    Re-running the same file changes nothing; a malformed row raises EditFileError naming it.
    """
    model, keys, rows = EDIT_IMPORTERS[name].rows(path, version)
    written = 0
    while batch := list(islice(rows, BATCH)):
        statement = insert(model)
        changed = {c: statement.excluded[c] for c in batch[0] if c not in keys}
        await session.execute(statement.on_conflict_do_update(index_elements=list(keys), set_=changed), batch)
        written += len(batch)
        progress(written)
    return written


# --- the tables a claim needs -------------------------------------------------------------------


async def claim_edit_tables(session: AsyncSession, claim: Claim) -> edits.EditTables:
    """The edit rows that can touch this claim (its procedure codes' pairs and MUEs, its diagnoses' MCE lists)."""
    procedures = sorted({line.procedure_code.upper() for line in claim.lines})
    diagnoses = sorted(set(claim.diagnosis_codes))
    ptp = await session.scalars(
        select(NcciPtpEdit).where(NcciPtpEdit.column1.in_(procedures), NcciPtpEdit.column2.in_(procedures))
    )
    mue = await session.scalars(select(MueEdit).where(MueEdit.code.in_(procedures)))
    mce = await session.scalars(select(MceEdit).where(MceEdit.code.in_(diagnoses)))
    return edits.EditTables(
        ptp=[
            edits.PtpEdit(
                column1=row.column1,
                column2=row.column2,
                effective_date=row.effective_date,
                deletion_date=row.deletion_date,
                modifier_indicator=edits.ModifierIndicator(row.modifier_indicator),
            )
            for row in ptp
        ],
        mue=[
            edits.MueEdit(
                code=row.code, units=row.units, mai=edits.MueAdjudication(row.mai), effective_date=row.effective_date
            )
            for row in mue
        ],
        mce=[
            edits.MceEdit(
                code=row.code,
                kind=edits.MceEditKind(row.kind),
                effective_date=row.effective_date,
                termination_date=row.termination_date,
            )
            for row in mce
        ],
    )
