"""The CMS edit tables in the database: the seeded extract, the importers of CMS's files, per-claim loading, check_claim."""

from __future__ import annotations

import csv
import io
import zipfile
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import func, select

from db.claim_checks import check_claim
from db.edit_tables import (
    MCE_EXTRACT,
    MUE_EXTRACT,
    PTP_EXTRACT,
    EditFileError,
    claim_edit_tables,
    import_edit_file,
    quarter_start,
)
from db.models import MceEdit, MueEdit, NcciPtpEdit
from db.uow import UnitOfWork
from domain.codes import CodeSets
from domain.edit_tables import MceEditKind, ModifierIndicator, MueAdjudication
from tests.db.test_duplicates_and_reference import accepted
from tests.domain.factories import line_body, make_claim
from workers.code_import import IMPORTERS, ImportFileError, ImportRequest, import_codes

DAY = date(2026, 11, 20)
FAR = date(2099, 1, 1)  # rows the import tests write lie here, where no other test's claim is


def _data_rows(path: Path) -> int:
    return sum(1 for _ in csv.reader(path.open(encoding="utf-8"))) - 1


async def _count(sessions, model) -> int:
    async with UnitOfWork(sessions) as uow:
        return int(await uow.session.scalar(select(func.count()).select_from(model)) or 0)


async def test_the_extract_is_seeded_with_every_row(session_factory):
    assert await _count(session_factory, MceEdit) >= _data_rows(MCE_EXTRACT)
    claim = make_claim(
        diagnosis_codes=["N40.0", "Z34.00"],
        lines=[
            line_body(procedure_code="80053", service_date=DAY),
            line_body(procedure_code="80048", service_date=DAY, line_control_number="L2"),
            line_body(procedure_code="36415", service_date=DAY, line_control_number="L3"),
        ],
    )
    async with UnitOfWork(session_factory) as uow:
        tables = await claim_edit_tables(uow.session, claim)
    pair = tables.ptp("80053", "80048", DAY)
    assert pair is not None and pair.modifier_indicator is ModifierIndicator.ALLOWED
    assert tables.ptp("80048", "80053", DAY) is None
    venipuncture = tables.mue("36415", DAY)
    assert venipuncture is not None and (venipuncture.units, venipuncture.mai) == (1, MueAdjudication.DAY_POLICY)
    assert tables.mce("N40.0", DAY) == {MceEditKind.ADULT, MceEditKind.MALE}
    assert tables.mce("Z34.00", DAY) == {MceEditKind.MATERNITY, MceEditKind.FEMALE}


async def test_a_claim_loads_only_the_rows_of_its_own_codes(session_factory):
    claim = make_claim(lines=[line_body(procedure_code="80053", service_date=DAY)])
    async with UnitOfWork(session_factory) as uow:
        tables = await claim_edit_tables(uow.session, claim)
    assert tables.counts[0] == 0  # 80053 alone: no pair has both its codes on the claim
    assert tables.mue("80053", DAY) is not None and tables.mue("36415", DAY) is None


@pytest.mark.parametrize(
    ("modifiers", "expected"),
    [([], {("ncci.ptp", "lines[1].procedure_code")}), (["59"], set())],
    ids=["bundled", "59-bypasses"],
)
async def test_check_claim_applies_the_seeded_edits(session_factory, modifiers, expected):
    claim = make_claim(
        lines=[
            line_body(procedure_code="80053", service_date=DAY),
            line_body(procedure_code="80048", service_date=DAY, modifiers=modifiers, line_control_number="L2"),
        ]
    )
    async with UnitOfWork(session_factory) as uow:
        report = await check_claim(uow, claim, claim_id=None, org_id="org-1", today=date(2026, 12, 1), codes=CodeSets())
    assert {(i.rule_id, i.path) for i in report.issues} == expected


async def test_a_replacement_repeating_its_accepted_original_is_neither_a_duplicate_nor_scrubbed(session_factory):
    lines = [
        line_body(procedure_code="80053", service_date=DAY),
        line_body(procedure_code="85025", service_date=DAY, line_control_number="L2"),
    ]
    await accepted(session_factory, make_claim(lines=lines))
    replacement = make_claim(lines=lines, frequency_code="7", original_payer_claim_id="PAYER-CLM-1")
    repeat = make_claim(lines=lines)
    async with UnitOfWork(session_factory) as uow:
        kept = await check_claim(
            uow, replacement, claim_id=None, org_id="org-1", today=date(2026, 12, 1), codes=CodeSets()
        )
        again = await check_claim(uow, repeat, claim_id=None, org_id="org-1", today=date(2026, 12, 1), codes=CodeSets())
    assert kept.issues == []
    assert {i.rule_id for i in again.issues} == {"claim.duplicate"}  # the same lines as an original are one


def _zip(tmp_path: Path, member: str, text: str) -> Path:
    path = tmp_path / "ccipra.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr(member, text)
    return path


PTP_TXT = (
    "CPT codes, descriptions and other data only are copyright 2025 American Medical Association.\n"
    "Column 1\tColumn 2\t*=in existence prior to 1996\tEffective Date\tDeletion Date\tModifier\tPTP Edit Rationale\n"
    "\t\t\t\t*=no data\t0=not allowed 1=allowed 9=not applicable\t\n"
    "89990\t89991\t\t20990101\t*\t0\tMutually exclusive procedures\n"
    "89990\t89992\t\t20990101\t20990401\t1\tMisuse of column two code with column one code\n"
)


async def test_the_ptp_importer_reads_cms_tab_file_in_a_zip_with_its_header_lines_and_is_idempotent(
    session_factory, tmp_path
):
    path = _zip(tmp_path, "ccipra-v321r0-f1.txt", PTP_TXT)
    for _ in range(2):
        async with UnitOfWork(session_factory) as uow:
            assert await import_edit_file(uow.session, "ncci-ptp", path, None) == 2
            await uow.commit()
    async with UnitOfWork(session_factory) as uow:
        found = await uow.session.scalars(select(NcciPtpEdit).where(NcciPtpEdit.column1 == "89990"))
        rows = {(r.column2, r.deletion_date, r.modifier_indicator) for r in found}
        claim = make_claim(
            lines=[line_body(procedure_code=c, line_control_number=f"L{c}") for c in ("89990", "89991", "89992")]
        )
        tables = await claim_edit_tables(uow.session, claim)
    assert rows == {
        ("89991", None, "0"),
        ("89992", date(2099, 4, 1), "1"),
    }
    assert tables.ptp("89990", "89992", FAR) is not None
    assert tables.ptp("89990", "89992", date(2099, 4, 1)) is None  # deleted from its deletion date


async def test_the_mue_importer_dates_the_file_by_its_quarter_and_the_later_quarter_wins(session_factory, tmp_path):
    header = "HCPCS/CPT Code,Practitioner Services MUE Values,MUE Adjudication Indicator,MUE Rationale\n"
    path = tmp_path / "MCR_MUE_PractitionerServices.csv"
    path.write_text("Copyright line\n" + header + '89990,4,"3 Date of Service Edit: Clinical",Clinical: Data\n')
    later = tmp_path / "next.csv"
    later.write_text(header + "89990,2,1 Line Edit,Clinical: Data\n")
    async with UnitOfWork(session_factory) as uow:
        await import_edit_file(uow.session, "mue", path, "2099Q1")
        await import_edit_file(uow.session, "mue", later, "2099-04-01")
        await uow.commit()
        tables = await claim_edit_tables(uow.session, make_claim(lines=[line_body(procedure_code="89990")]))
    first, second = tables.mue("89990", date(2099, 3, 31)), tables.mue("89990", date(2099, 4, 1))
    assert first is not None and (first.units, first.mai) == (4, MueAdjudication.DAY_CLINICAL)
    assert second is not None and (second.units, second.mai) == (2, MueAdjudication.LINE)
    assert tables.mue("89990", date(2098, 12, 31)) is None


async def test_the_importers_load_the_shipped_extract_files_again_without_change(session_factory):
    before = [await _count(session_factory, model) for model in (NcciPtpEdit, MueEdit, MceEdit)]
    async with UnitOfWork(session_factory) as uow:
        written = [
            await import_edit_file(uow.session, "ncci-ptp", PTP_EXTRACT, None),
            await import_edit_file(uow.session, "mue", MUE_EXTRACT, "2026Q4"),
            await import_edit_file(uow.session, "mce", MCE_EXTRACT, None),
        ]
        await uow.commit()
    assert written == [_data_rows(PTP_EXTRACT), _data_rows(MUE_EXTRACT), _data_rows(MCE_EXTRACT)]
    assert [await _count(session_factory, model) for model in (NcciPtpEdit, MueEdit, MceEdit)] == before


@pytest.mark.parametrize(
    ("name", "text", "version", "said"),
    [
        ("mue", "HCPCS/CPT Code,Values,MAI\n89993,two,1 Line Edit\n", "2099Q1", "row 2"),
        ("mue", "HCPCS/CPT Code,Values,MAI\n89993,2,1 Line Edit\n", None, "--version"),
        ("ncci-ptp", "Column 1,Column 2,x,Effective,Deletion,Modifier\n89990,89993,,2099-01-01,*,1\n", None, "row 2"),
        ("ncci-ptp", "Column 1,Column 2,x,Effective,Deletion,Modifier\n89990,89993,,20990101,*,5\n", None, "0, 1 or 9"),
        ("mce", "ICD-10-CM Code,Description,MCE Edit,Effective Date\nP07.30,x,Elderly,20991001\n", None, "MCE Edit"),
    ],
)
async def test_a_bad_file_is_refused_naming_the_row_and_nothing_is_written(
    session_factory, tmp_path, name, text, version, said
):
    path = tmp_path / "bad.csv"
    path.write_text(text)
    before = await _count(session_factory, NcciPtpEdit)
    async with UnitOfWork(session_factory) as uow:
        with pytest.raises(EditFileError, match=said):
            await import_edit_file(uow.session, name, path, version)
    assert await _count(session_factory, NcciPtpEdit) == before


async def test_the_edit_importers_are_in_the_codes_import_registry(db_url, tmp_path):
    assert {"ncci-ptp", "mue", "mce"} <= set(IMPORTERS)
    path = tmp_path / "mce.csv"
    path.write_text("ICD-10-CM Code,Description,MCE Edit,Effective Date,Termination Date\nZ12.5,x,Male,20991001,\n")
    seen: list[int] = []
    result = await import_codes(db_url, "mce", ImportRequest(path=path), seen.append)
    assert (result.system, result.codes, seen) == ("mce", 1, [1])
    with pytest.raises(ImportFileError, match="--version"):
        await import_codes(db_url, "mue", ImportRequest(path=path), seen.append)


@pytest.mark.parametrize(
    ("version", "first_day"),
    [("2026Q4", date(2026, 10, 1)), ("2027-q1", date(2027, 1, 1)), ("2026-07-01", date(2026, 7, 1))],
)
def test_quarter_start(version, first_day):
    assert quarter_start(version) == first_day


def test_a_zip_member_is_read_as_text_whatever_its_encoding(tmp_path):
    text = io.BytesIO()
    with zipfile.ZipFile(text, "w") as archive:
        archive.writestr("f1.txt", "Column 1\tColumn 2\n".encode("latin-1") + "caf\xe9\n".encode("latin-1"))
    path = tmp_path / "latin.zip"
    path.write_bytes(text.getvalue())
    from db.edit_tables import read_lines

    assert list(read_lines(path)) == ["Column 1\tColumn 2", "caf\xe9"]
