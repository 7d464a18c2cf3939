"""Code sets: canonical spellings, dated code tables, the packaged ICD-10-CM lookups, the release-file parsers."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from pydantic import ValidationError

from domain.code_files import CodeFileError, fiscal_year_of, parse_cpt_csv, parse_hcpcs, parse_icd10_order
from domain.codes import (
    CodeEntry,
    CodeStatus,
    CodeSystem,
    CodeTable,
    canonical_icd10,
    canonical_procedure,
    icd10_children,
    icd10_package_status,
    icd10_status,
    procedure_system,
)
from services.codes import CodeKind
from services.codes import canonical as services_canonical
from tests.domain.factories import make_claim


class TestCanonicalIcd10:
    @pytest.mark.parametrize("raw", ["E11.9", "E119", "e11.9", "e119", " E11.9 ", "E.119"])
    def test_dotted_and_undotted_spellings_become_one_code(self, raw: str) -> None:
        assert canonical_icd10(raw) == "E11.9"

    @pytest.mark.parametrize(("raw", "canonical"), [("i10", "I10"), ("S52521A", "S52.521A"), ("E11.", "E11")])
    def test_three_characters_take_no_dot(self, raw: str, canonical: str) -> None:
        assert canonical_icd10(raw) == canonical

    @pytest.mark.parametrize("raw", ["", ".", "not a code", "123456789"])
    def test_never_raises_for_what_is_no_code(self, raw: str) -> None:
        assert isinstance(canonical_icd10(raw), str)

    def test_claim_stores_the_canonical_spelling(self) -> None:
        dotted = make_claim(diagnosis_codes=["E11.9", "I10"])
        undotted = make_claim(diagnosis_codes=["e119", "i10"])
        assert dotted.diagnosis_codes == undotted.diagnosis_codes == ["E11.9", "I10"]

    def test_claim_parses_unknown_codes_for_the_rules_to_refuse(self) -> None:
        assert make_claim(diagnosis_codes=["zz9.99x", "I10"]).diagnosis_codes[0] == "ZZ9.99X"


class TestCodeEntry:
    def test_window_is_inclusive_at_both_ends(self) -> None:
        entry = CodeEntry(code="X", effective_date=date(2024, 10, 1), termination_date=date(2025, 9, 30))
        assert entry.active_on(date(2024, 10, 1))
        assert entry.active_on(date(2025, 9, 30))
        assert not entry.active_on(date(2024, 9, 30))
        assert not entry.active_on(date(2025, 10, 1))

    def test_termination_before_effective_date_is_refused(self) -> None:
        with pytest.raises(ValidationError):
            CodeEntry(code="X", effective_date=date(2025, 1, 2), termination_date=date(2025, 1, 1))


class TestCodeTable:
    table = CodeTable(
        [
            CodeEntry(code="80053", description="Comprehensive metabolic panel"),
            CodeEntry(code="99999", billable=False),
            CodeEntry(code="0001U", effective_date=date(2026, 1, 1)),
            CodeEntry(code="G0103", termination_date=date(2020, 12, 31)),
            CodeEntry(code="N18.3", termination_date=date(2020, 9, 30)),
            CodeEntry(code="N18.3", effective_date=date(2030, 10, 1)),
        ]
    )
    on = date(2026, 6, 1)

    @pytest.mark.parametrize(
        ("code", "status"),
        [
            ("80053", CodeStatus.ACTIVE),
            ("12345", CodeStatus.UNKNOWN),
            ("99999", CodeStatus.NOT_BILLABLE),
            ("G0103", CodeStatus.TERMINATED),
            ("N18.3", CodeStatus.TERMINATED),
        ],
    )
    def test_status_on_a_date(self, code: str, status: CodeStatus) -> None:
        assert self.table.status(code, self.on) is status

    def test_a_code_not_yet_in_effect(self) -> None:
        assert self.table.status("0001U", date(2025, 12, 31)) is CodeStatus.NOT_YET_EFFECTIVE
        assert self.table.status("0001U", date(2026, 1, 1)) is CodeStatus.ACTIVE

    def test_lookup_ignores_case_and_dot(self) -> None:
        assert "n183" in self.table
        assert self.table.status("g0103", date(2020, 1, 1)) is CodeStatus.ACTIVE
        assert len(self.table.entries("N183")) == 2

    def test_a_terminated_code_passes_before_its_termination(self) -> None:
        assert self.table.status("N18.3", date(2020, 9, 30)) is CodeStatus.ACTIVE
        assert self.table.status("N18.3", date(2020, 10, 1)) is CodeStatus.TERMINATED

    def test_len_and_iteration(self) -> None:
        assert len(self.table) == 5
        assert len(list(self.table)) == 6


class TestPackagedIcd10:
    @pytest.mark.parametrize("code", ["E11.9", "E119", "I10", "Z00.00", "S52.521A", "T36.0X1A"])
    def test_leaf_codes_are_billable(self, code: str) -> None:
        assert icd10_package_status(code) is CodeStatus.ACTIVE

    @pytest.mark.parametrize("code", ["E11", "I25", "J45.90", "N18.3", "S52.521"])
    def test_categories_are_not_billable(self, code: str) -> None:
        assert icd10_package_status(code) is CodeStatus.NOT_BILLABLE

    @pytest.mark.parametrize("code", ["E11.99", "ZZZ", "1", "A00-A09", "", "E11.9X"])
    def test_chapters_blocks_and_inventions_are_unknown(self, code: str) -> None:
        assert icd10_package_status(code) is CodeStatus.UNKNOWN

    def test_children_of_a_category(self) -> None:
        assert icd10_children("E11")[0] == "E11.0"
        assert icd10_children("E11.9") == ()
        assert icd10_children("nonsense") == ()


class TestIcd10Status:
    overrides = CodeTable(
        [
            CodeEntry(code="E11.9", termination_date=date(2025, 9, 30)),
            CodeEntry(code="U09.9", billable=False),
            CodeEntry(code="Z99.99", effective_date=date(2025, 10, 1)),
        ]
    )

    def test_an_override_terminated_last_year_fails_this_year_and_passes_last_year(self) -> None:
        assert icd10_status("E11.9", date(2026, 1, 5), self.overrides) is CodeStatus.TERMINATED
        assert icd10_status("E11.9", date(2025, 3, 5), self.overrides) is CodeStatus.ACTIVE

    def test_an_override_may_mark_a_package_code_not_billable(self) -> None:
        assert icd10_status("U09.9", date(2026, 1, 5), self.overrides) is CodeStatus.NOT_BILLABLE

    def test_an_override_may_add_a_code_the_package_lacks(self) -> None:
        assert icd10_package_status("Z99.99") is CodeStatus.UNKNOWN
        assert icd10_status("Z99.99", date(2026, 1, 5), self.overrides) is CodeStatus.ACTIVE

    def test_codes_without_override_follow_the_package(self) -> None:
        assert icd10_status("I10", date(2026, 1, 5), self.overrides) is CodeStatus.ACTIVE
        assert icd10_status("E11", date(2026, 1, 5), None) is CodeStatus.NOT_BILLABLE


class TestCanonicalProcedure:
    @pytest.mark.parametrize("raw", ["g0483", " G0483 ", "G0483", "g0483\t"])
    def test_any_case_and_spacing_become_one_code(self, raw: str) -> None:
        assert canonical_procedure(raw) == "G0483"

    def test_claim_and_code_service_share_the_rule(self) -> None:
        assert make_claim(lines__0__procedure_code="3044f").lines[0].procedure_code == "3044F"
        assert services_canonical(CodeKind.CPT, "3044f") == "3044F"

    @pytest.mark.parametrize(
        ("code", "system"), [("G0483", CodeSystem.HCPCS), ("80053", CodeSystem.CPT), ("3044F", CodeSystem.CPT)]
    )
    def test_a_letter_first_is_hcpcs_level_ii_digits_first_cpt(self, code: str, system: CodeSystem) -> None:
        assert procedure_system(code) is system


SEED = Path(__file__).resolve().parents[2] / "db" / "seed"


def _hcpcs_line(code: str = "G9990", record_id: str = "3", added: str = "20260101", term: str = "") -> str:
    """One first line of a HCPCS record in CMS's layout (320 characters)."""
    line = [" "] * 320
    for start, value in ((1, code), (6, "00100"), (11, record_id), (12, "Test code"), (269, added), (285, term)):
        line[start - 1 : start - 1 + len(value)] = value
    return "".join(line) + "\n"


class TestHcpcsFile:
    def test_the_shipped_extract_parses_with_drug_tests_and_their_dates(self) -> None:
        with (SEED / "hcpcs_extract.txt").open(encoding="ascii") as lines:
            entries = {record.entry.code: record.entry for record in parse_hcpcs(lines)}

        assert {"G0480", "G0481", "G0482", "G0483", "G0659"} <= set(entries)
        assert entries["G0483"].effective_date == date(2016, 1, 1)
        assert entries["G0483"].termination_date is None
        assert entries["G0483"].description.endswith("22 or more drug class(es), including metabolite(s) if performed")
        assert entries["G0431"].termination_date == date(2015, 12, 31)
        assert all(code[0].isalpha() and len(code) == 5 for code in entries)  # no modifier records (QW, 91, ...)

    def test_continuation_lines_join_the_long_description(self) -> None:
        more = "G9990001004Continued text".ljust(91) + "\n"
        (record,) = parse_hcpcs([_hcpcs_line(), more])
        assert record.entry.description == "Test code Continued text"

    @pytest.mark.parametrize(
        ("bad", "field"),
        [
            (_hcpcs_line(added="2026011"), "add date"),
            (_hcpcs_line(added="20261301"), "add date"),
            (_hcpcs_line(record_id="5"), "record id"),
            (_hcpcs_line(code="99999"), "code"),
            (_hcpcs_line()[:200] + "\n", "record"),
            (_hcpcs_line(added="20260101", term="20251231"), "dates"),
            ("G9991001004orphan continuation\n", "record id"),
        ],
    )
    def test_a_malformed_line_is_named_by_its_number(self, bad: str, field: str) -> None:
        with pytest.raises(CodeFileError) as raised:
            list(parse_hcpcs([_hcpcs_line("G9980"), "\n", bad]))
        assert (raised.value.line, raised.value.field) == (3, field)
        assert str(raised.value).startswith(f"line 3: {field}: ")


class TestCptFile:
    HEADER = "code,description,effective_date,termination_date\n"

    def test_rows_carry_their_dates(self) -> None:
        rows = list(
            parse_cpt_csv(
                [
                    self.HEADER,
                    "80053,Comprehensive metabolic panel,2000-01-01,\n",
                    "3044f,HbA1c < 7%,2005-01-01,2030-12-31\n",
                ]
            )
        )
        assert [(r.line, r.entry.code, r.entry.termination_date) for r in rows] == [
            (2, "80053", None),
            (3, "3044F", date(2030, 12, 31)),
        ]

    @pytest.mark.parametrize(
        ("row", "field"),
        [
            ("80053,Panel,01/01/2000,\n", "effective_date"),
            ("G0483,Drug test,2016-01-01,\n", "code"),
            ("80053,,2000-01-01,\n", "description"),
        ],
    )
    def test_a_bad_row_is_named_by_its_line(self, row: str, field: str) -> None:
        with pytest.raises(CodeFileError) as raised:
            list(parse_cpt_csv([self.HEADER, "80048,Basic metabolic panel,2000-01-01,\n", row]))
        assert (raised.value.line, raised.value.field) == (3, field)

    def test_a_missing_column_is_named(self) -> None:
        with pytest.raises(CodeFileError, match="line 1: header: missing column\\(s\\) termination_date"):
            list(parse_cpt_csv(["code,description,effective_date\n"]))


class TestIcd10OrderFile:
    def test_the_release_takes_effect_on_october_1_and_headers_are_not_billable(self) -> None:
        with (SEED / "icd10cm_order_2025_extract.txt").open(encoding="ascii") as lines:
            entries = {record.entry.code: record.entry for record in parse_icd10_order(lines, 2025)}
        assert entries["E66.811"].effective_date == date(2024, 10, 1)
        assert entries["E66.811"].billable
        assert not entries["E66.8"].billable
        assert fiscal_year_of("icd10cm_order_2025_extract.txt") == 2025

    def test_a_bad_flag_is_named_by_its_line(self) -> None:
        good = "00001 E119    1 Type 2 diabetes mellitus without complications\n"
        with pytest.raises(CodeFileError, match="line 2: header flag"):
            list(parse_icd10_order([good, good.replace(" 1 ", " 7 ")], 2025))
