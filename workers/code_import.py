"""`claimflow codes import`: load a code system's release file into the code tables, in batches, with progress.

Each importer reads a file the user downloaded (or, for CPT, licensed) and writes it in one transaction:
a malformed line stops the import naming its line, and nothing is written. Re-running the same file
changes nothing. `--full` says the file is the system's complete release, which the code_system_load
table records: from then on a code the tables do not list is an error on a claim, not a warning.

Another system's loader joins by adding an entry to IMPORTERS (name -> importer).
"""

from __future__ import annotations

import functools
import io
import re
import sys
import zipfile
from collections.abc import Awaitable, Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TextIO

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.edit_tables import EDIT_IMPORTERS, EditFileError, import_edit_file
from db.engine import create_engine, create_session_factory
from db.repositories.codes import CodeKind
from db.uow import UnitOfWork
from domain.code_files import (
    CodeFileError,
    CodeRecord,
    fiscal_year_of,
    fiscal_year_start,
    parse_cpt_csv,
    parse_hcpcs,
    parse_icd10_order,
)
from domain.codes import CodeSystem
from workers import event_loop
from workers.database import database
from workers.settings import Settings

#: Rows per INSERT ... ON CONFLICT statement.
BATCH_SIZE = 1000
#: Who the audit log names for an import from the command line.
ACTOR = "cli:codes-import"


class ImportFileError(ValueError):
    """The file cannot be imported as asked (missing, not the expected member of a zip, no release year)."""


@dataclass(frozen=True, slots=True)
class ImportRequest:
    """What to import: the file, whether it is the complete release, and its version (a fiscal year for ICD-10-CM)."""

    path: Path
    full: bool = False
    version: str | None = None


@dataclass(frozen=True, slots=True)
class ImportResult:
    """What an import wrote: codes inserted or refreshed, codes retired by the release, and the version recorded."""

    system: str
    codes: int
    retired: int
    full: bool
    version: str | None


#: Told how many lines of the file have been read so far.
ProgressCallback = Callable[[int], None]
Importer = Callable[[async_sessionmaker[AsyncSession], ImportRequest, ProgressCallback], Awaitable[ImportResult]]


# --- reading files -------------------------------------------------------------------------------------------


@contextmanager
def open_release(path: Path, member: str, encoding: str) -> Iterator[TextIO]:
    """The text of `path`, or of the zip member whose name matches the regular expression `member`."""
    if not path.is_file():
        raise ImportFileError(f"{path.name}: no such file")
    if not zipfile.is_zipfile(path):
        with path.open(encoding=encoding, newline="") as text:
            yield text
        return
    with zipfile.ZipFile(path) as archive:
        names = [name for name in archive.namelist() if re.search(member, Path(name).name, re.IGNORECASE)]
        if len(names) != 1:
            found = ", ".join(names) or "none"
            raise ImportFileError(f"{path.name}: expected one file matching {member} in the zip, found {found}")
        with archive.open(names[0]) as raw:
            yield io.TextIOWrapper(raw, encoding=encoding, newline="")


def count_lines(path: Path) -> int:
    """How many lines the file (or, for a zip, all it holds) has: the progress bar's total."""
    if zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as archive:
            return sum(archive.read(name).count(b"\n") for name in archive.namelist())
    with path.open("rb") as raw:
        return sum(chunk.count(b"\n") for chunk in iter(lambda: raw.read(1 << 20), b""))


def batches(records: Iterable[CodeRecord], size: int = BATCH_SIZE) -> Iterator[list[CodeRecord]]:
    batch: list[CodeRecord] = []
    for record in records:
        batch.append(record)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


async def _finish(
    uow: UnitOfWork, system: CodeSystem, request: ImportRequest, *, codes: int, retired: int, version: str | None
) -> ImportResult:
    now = datetime.now(UTC)
    await uow.codes.record_load(
        system.value, full=request.full, source=request.path.name, version=version, codes=codes, at=now
    )
    await uow.audit.append(
        claim_id=None,
        actor=ACTOR,
        action="codes.imported",
        at=now,
        details={
            "system": system.value,
            "source": request.path.name,
            "version": version,
            "full": request.full,
            "codes": codes,
            "retired": retired,
        },
        event_key=f"codes.imported-{system.value}-{now.isoformat()}",
    )
    await uow.commit()
    return ImportResult(system=system.value, codes=codes, retired=retired, full=request.full, version=version)


# --- the importers -------------------------------------------------------------------------------------------


async def _procedure_import(
    sessions: async_sessionmaker[AsyncSession],
    request: ImportRequest,
    progress: ProgressCallback,
    *,
    system: CodeSystem,
    records: Callable[[TextIO], Iterable[CodeRecord]],
    member: str,
    encoding: str,
) -> ImportResult:
    codes = 0
    async with UnitOfWork(sessions) as uow:
        with open_release(request.path, member, encoding) as text:
            for batch in batches(records(text)):
                await uow.codes.upsert(CodeKind.CPT, [record.entry for record in batch])
                codes += len(batch)
                progress(batch[-1].line)
        return await _finish(uow, system, request, codes=codes, retired=0, version=request.version)


async def import_hcpcs(
    sessions: async_sessionmaker[AsyncSession], request: ImportRequest, progress: ProgressCallback
) -> ImportResult:
    """CMS's HCPCS Level II file (the fixed-width ANWEB .txt, or the quarterly zip holding it)."""
    return await _procedure_import(
        sessions, request, progress, system=CodeSystem.HCPCS, records=parse_hcpcs, member=r"\.txt$", encoding="latin-1"
    )


async def import_cpt(
    sessions: async_sessionmaker[AsyncSession], request: ImportRequest, progress: ProgressCallback
) -> ImportResult:
    """A CPT CSV the user licenses: columns code, description, effective_date, termination_date (ISO dates)."""
    return await _procedure_import(
        sessions,
        request,
        progress,
        system=CodeSystem.CPT,
        records=parse_cpt_csv,
        member=r"\.csv$",
        encoding="utf-8-sig",
    )


async def import_icd10cm(
    sessions: async_sessionmaker[AsyncSession], request: ImportRequest, progress: ProgressCallback
) -> ImportResult:
    """One fiscal-year release of ICD-10-CM from CMS's order file (icd10cm_order_YYYY.txt, or the zip holding it).

    New codes take effect on the release's first day (October 1). A billable code the release lists as a
    header, and (with `--full`) a billable code it no longer lists, are retired on the day before. Load
    the releases oldest first, from the oldest year whose service dates you still bill.
    """
    year = int(request.version) if request.version and request.version.isdigit() else fiscal_year_of(request.path.name)
    if year is None:
        raise ImportFileError(
            f"{request.path.name}: which fiscal year is this release? name it with --version (e.g. --version 2026)"
        )
    last_day = fiscal_year_start(year) - timedelta(days=1)
    codes = 0
    async with UnitOfWork(sessions) as uow:
        billable = await uow.codes.billable_icd10()
        open_codes = {code for code, terminated in billable.items() if terminated is None}
        listed: set[str] = set()
        to_retire: set[str] = set()
        with open_release(request.path, r"order.*\.txt$", "latin-1") as text:
            for batch in batches(parse_icd10_order(text, year)):
                fresh = []
                for record in batch:
                    listed.add(record.entry.code)
                    if record.entry.code in billable and not record.entry.billable:
                        # Became a header: it stays billable for service before this release (retired the day before).
                        to_retire.add(record.entry.code)
                    else:
                        fresh.append(record.entry)
                await uow.codes.upsert(CodeKind.ICD10, fresh)
                codes += len(batch)
                progress(batch[-1].line)
        if request.full:
            to_retire |= open_codes - listed
        retired = await uow.codes.retire(CodeKind.ICD10, to_retire & open_codes, last_day)
        return await _finish(uow, CodeSystem.ICD10CM, request, codes=codes, retired=retired, version=str(year))


IMPORTERS: dict[str, Importer] = {
    CodeSystem.HCPCS.value: import_hcpcs,
    CodeSystem.CPT.value: import_cpt,
    CodeSystem.ICD10CM.value: import_icd10cm,
}


async def import_edits(
    name: str, sessions: async_sessionmaker[AsyncSession], request: ImportRequest, progress: ProgressCallback
) -> ImportResult:
    """A CMS edit table's quarterly file (NCCI PTP, MUE, MCE: db/edit_tables.py) in one transaction, audited."""
    async with UnitOfWork(sessions) as uow:
        try:
            rows = await import_edit_file(uow.session, name, request.path, request.version, progress)
        except EditFileError as exc:
            raise ImportFileError(f"{request.path.name}: {exc}") from exc
        now = datetime.now(UTC)
        details: dict[str, object] = {
            "system": name,
            "source": request.path.name,
            "version": request.version,
            "codes": rows,
        }
        await uow.audit.append(
            claim_id=None,
            actor=ACTOR,
            action="codes.imported",
            at=now,
            details=details,
            event_key=f"codes.imported-{name}-{now.isoformat()}",
        )
        await uow.commit()
    return ImportResult(system=name, codes=rows, retired=0, full=False, version=request.version)


# The CMS edit tables (ncci-ptp, mue, mce) load through the same command.
IMPORTERS.update({name: functools.partial(import_edits, name) for name in EDIT_IMPORTERS})


# --- the command -------------------------------------------------------------------------------------------


async def import_codes(url: str, system: str, request: ImportRequest, progress: ProgressCallback) -> ImportResult:
    """Run the importer of `system` against the database at `url`."""
    engine = create_engine(url)
    try:
        return await IMPORTERS[system](create_session_factory(engine), request, progress)
    finally:
        await engine.dispose()


def run_import(settings: Settings, *, system: str, path: Path, full: bool, version: str | None) -> int:
    """`claimflow codes import`: 0 with a summary, 1 naming the bad line, 2 when the request itself is wrong."""
    errors = Console(stderr=True)
    if system not in IMPORTERS:
        errors.print(f"no importer for {system!r}; choose one of {', '.join(sorted(IMPORTERS))}")
        return 2
    if not path.is_file():
        errors.print(f"{path}: no such file")
        return 2
    request = ImportRequest(path=path, full=full, version=version)
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    try:
        with database(settings) as db, Progress(*columns, console=Console(stderr=True)) as bar:
            task = bar.add_task(f"{system} {path.name}", total=count_lines(path))
            result = event_loop.run(
                import_codes(db.url, system, request, lambda line: bar.update(task, completed=line))
            )
            bar.update(task, completed=bar.tasks[0].total)
    except CodeFileError as exc:
        errors.print(f"{path.name}: {exc}; nothing was imported")
        return 1
    except ImportFileError as exc:
        errors.print(f"{exc}; nothing was imported")
        return 2
    scope = "the complete release" if result.full else "part of the system (not --full)"
    retired = f", {result.retired} retired" if result.retired else ""
    version = f" {result.version}" if result.version else ""
    print(f"imported {result.codes} {result.system}{version} codes from {path.name} as {scope}{retired}")
    sys.stdout.flush()
    return 0
