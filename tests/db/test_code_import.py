"""Code imports on a database of their own: HCPCS, CPT and ICD-10-CM releases, idempotent, dated, and what a full
load changes for claims (an unknown code: a warning before, an error after)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.code_sets import CodeSetCache
from db.engine import create_engine, create_session_factory
from db.models import CodeSystemLoad, CPTCode, ICD10Code
from db.uow import UnitOfWork
from domain.code_files import CodeFileError
from domain.codes import CodeSets
from domain.validation.engine import validate_claim
from tests.domain.factories import make_claim
from tests.support.database import create_test_database, drop_test_database
from workers.code_import import ImportRequest, import_cpt, import_hcpcs, import_icd10cm

SEED = Path(__file__).resolve().parents[2] / "db" / "seed"
HCPCS = SEED / "hcpcs_extract.txt"
FY2024 = SEED / "icd10cm_order_2024_extract.txt"
FY2025 = SEED / "icd10cm_order_2025_extract.txt"


@pytest.fixture
async def sessions() -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    """A fresh migrated and seeded database per test: a full load changes what every later claim sees."""
    url = create_test_database()
    engine = create_engine(url)
    yield create_session_factory(engine)
    await engine.dispose()
    drop_test_database(url)


def lines_read() -> tuple[list[int], object]:
    seen: list[int] = []
    return seen, seen.append


async def codes_now(sessions: async_sessionmaker[AsyncSession]) -> CodeSets:
    async with UnitOfWork(sessions) as uow:
        return await CodeSetCache(ttl_seconds=0).get(uow)


async def cpt_rows(sessions: async_sessionmaker[AsyncSession]) -> dict[str, tuple[str, date, date | None]]:
    async with sessions() as session:
        rows = await session.scalars(select(CPTCode))
        return {row.code: (row.description, row.effective_date, row.termination_date) for row in rows}


def procedure_findings(codes: CodeSets, code: str, on: date | None = None) -> dict[str, str]:
    overrides = {"lines__0__procedure_code": code} | ({"lines__0__service_date": on} if on else {})
    report = validate_claim(make_claim(**overrides), today=date(2026, 12, 1), codes=codes)
    return {issue.rule_id: issue.severity.value for issue in report.issues if issue.rule_id.startswith("procedure.")}


def diagnosis_findings(codes: CodeSets, code: str, on: date) -> set[str]:
    claim = make_claim(diagnosis_codes=[code], lines__0__service_date=on, lines__0__diagnosis_pointers=[1])
    report = validate_claim(claim, today=date(2026, 12, 1), codes=codes)
    return {issue.rule_id for issue in report.errors if issue.rule_id.startswith("icd10.")}


async def test_the_seeded_hcpcs_extract_lets_a_drug_test_pass(sessions):
    codes = await codes_now(sessions)

    assert procedure_findings(codes, "G0483") == {}
    assert procedure_findings(codes, "g0659") == {}  # lower case is the same code


async def test_hcpcs_import_keeps_effective_and_termination_dates_and_twice_changes_nothing(sessions, tmp_path):
    seen, progress = lines_read()
    first = await import_hcpcs(sessions, ImportRequest(HCPCS), progress)  # type: ignore[arg-type]
    before = await cpt_rows(sessions)
    again = await import_hcpcs(sessions, ImportRequest(HCPCS), progress)  # type: ignore[arg-type]

    assert first.codes == again.codes == 62
    assert await cpt_rows(sessions) == before
    assert before["G0483"][1:] == (date(2016, 1, 1), None)
    assert before["G0431"][1:] == (date(2011, 4, 1), date(2015, 12, 31))
    last_code_line = max(number for number, line in enumerate(HCPCS.open(), start=1) if line[10] == "3")
    assert seen[-1] == last_code_line  # progress reached the last code (modifier records follow it)


async def test_an_unknown_hcpcs_code_warns_before_a_full_load_and_is_an_error_after(sessions):
    assert procedure_findings(await codes_now(sessions), "G9998") == {"procedure.unlisted": "warning"}

    await import_hcpcs(sessions, ImportRequest(HCPCS, full=True), lambda _: None)

    codes = await codes_now(sessions)
    assert procedure_findings(codes, "G9998") == {"procedure.known": "error"}
    assert procedure_findings(codes, "G0483") == {}
    assert procedure_findings(codes, "G0431", date(2026, 11, 20)) == {"procedure.active": "error"}  # retired 2015
    assert procedure_findings(codes, "99999") == {"procedure.unlisted": "warning"}  # CPT is still partial


async def test_a_later_partial_load_leaves_a_system_loaded_in_full(sessions, tmp_path):
    await import_hcpcs(sessions, ImportRequest(HCPCS, full=True, version="2026-Q4"), lambda _: None)
    await import_hcpcs(sessions, ImportRequest(HCPCS, version="2027-Q1"), lambda _: None)

    async with sessions() as session:
        load = await session.get(CodeSystemLoad, "hcpcs")
    assert load is not None
    assert (load.loaded_in_full, load.source, load.version, load.codes) == (True, "hcpcs_extract.txt", "2027-Q1", 62)


async def test_a_malformed_line_imports_nothing_and_names_its_line(sessions, tmp_path):
    good = next(line for line in HCPCS.open() if line.startswith("G0483"))
    bad = tmp_path / "bad.txt"
    bad.write_text(good.replace("G0483", "G9990") + good.replace("20160101", "2016O101"))

    with pytest.raises(CodeFileError, match="line 2: add date"):
        await import_hcpcs(sessions, ImportRequest(bad, full=True), lambda _: None)

    assert "G9990" not in await cpt_rows(sessions)
    assert (await codes_now(sessions)).loaded_in_full == frozenset()


async def test_cpt_csv_import_keeps_dates_and_names_a_bad_line(sessions, tmp_path):
    cpt = tmp_path / "cpt.csv"
    cpt.write_text(
        "code,description,effective_date,termination_date\n"
        "3044F,Most recent hemoglobin A1c level less than 7.0%,2005-01-01,\n"
        "80053,Comprehensive metabolic panel,1998-01-01,\n"
    )
    await import_cpt(sessions, ImportRequest(cpt), lambda _: None)
    rows = await cpt_rows(sessions)
    assert rows["3044F"][1:] == (date(2005, 1, 1), None)
    assert rows["80053"][1] == date(1998, 1, 1)  # the earlier of the seed's date and the file's

    cpt.write_text("code,description,effective_date,termination_date\n99990,Something,2026-13-01,\n")
    with pytest.raises(CodeFileError, match="line 2: effective_date"):
        await import_cpt(sessions, ImportRequest(cpt), lambda _: None)


async def test_icd10_releases_by_fiscal_year_retire_and_add_codes_on_october_1(sessions):
    await import_icd10cm(sessions, ImportRequest(FY2024), lambda _: None)
    result = await import_icd10cm(sessions, ImportRequest(FY2025, full=True), lambda _: None)
    codes = await codes_now(sessions)

    # E66.8 was billable through FY2024 and is a header from FY2025 (split into E66.811-E66.813, E66.89).
    assert diagnosis_findings(codes, "E66.8", date(2024, 9, 30)) == set()
    assert diagnosis_findings(codes, "E66.8", date(2024, 10, 1)) == {"icd10.active"}
    assert diagnosis_findings(codes, "E66.811", date(2024, 10, 1)) == set()
    assert diagnosis_findings(codes, "E66.811", date(2024, 9, 30)) == {"icd10.active"}
    # Loaded in full, the table is the code set: a code it does not list does not exist.
    assert diagnosis_findings(codes, "J45.909", date(2024, 11, 20)) == {"icd10.exists"}
    assert result.version == "2025" and result.retired >= 1


async def test_icd10_import_twice_changes_nothing(sessions):
    async def table() -> list[tuple[str, date, date | None, bool]]:
        async with sessions() as session:
            rows = await session.scalars(select(ICD10Code).order_by(ICD10Code.code))
            return [(r.code, r.effective_date, r.termination_date, r.billable) for r in rows]

    await import_icd10cm(sessions, ImportRequest(FY2024), lambda _: None)
    await import_icd10cm(sessions, ImportRequest(FY2025), lambda _: None)
    once = await table()
    again = await import_icd10cm(sessions, ImportRequest(FY2025), lambda _: None)

    assert await table() == once
    assert again.retired == 0
    async with sessions() as session:
        assert await session.scalar(select(func.count()).select_from(ICD10Code)) == len(once)
