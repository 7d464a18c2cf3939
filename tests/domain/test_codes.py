"""Code sets: canonical ICD-10-CM spelling, dated code tables, the packaged ICD-10-CM lookups."""

from __future__ import annotations

from datetime import date

import pytest
from pydantic import ValidationError

from domain.codes import (
    CodeEntry,
    CodeStatus,
    CodeTable,
    canonical_icd10,
    icd10_children,
    icd10_package_status,
    icd10_status,
)
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
