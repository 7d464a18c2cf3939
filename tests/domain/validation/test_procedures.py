"""Procedure rules: CPT/HCPCS format, the procedure table on the service date, modifiers."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from domain.codes import CodeEntry, CodeSets, CodeSystem, CodeTable
from tests.domain.factories import make_claim, service_date
from tests.domain.validation.support import findings, report

PATH = "lines[0].procedure_code"


class TestFormat:
    @pytest.mark.parametrize("code", ["80053", "0001U", "3044F", "0042T", "G0103", "J1100"])
    def test_cpt_and_hcpcs_pass(self, code: str) -> None:
        assert findings(make_claim(lines__0__procedure_code=code)) == set()

    @pytest.mark.parametrize("code", ["8005", "800531", "ABCDE", "0001X", "GG103", "80053-26", "g-103"])
    def test_anything_else_fails(self, code: str) -> None:
        assert findings(make_claim(lines__0__procedure_code=code)) == {("procedure.format", PATH)}

    def test_lower_case_is_the_same_code_in_upper_case(self) -> None:
        claim = make_claim(lines__0__procedure_code=" g0103 ")
        assert claim.lines[0].procedure_code == "G0103"
        assert findings(claim) == set()


class TestTable:
    codes = CodeSets(
        procedures=CodeTable(
            [
                CodeEntry(code="80053"),
                CodeEntry(code="G0103", billable=False),
                CodeEntry(code="80050", termination_date=service_date() - timedelta(days=1)),
                CodeEntry(code="0001U", effective_date=date.today() + timedelta(days=30)),
            ]
        )
    )

    def test_code_in_the_table_passes(self) -> None:
        assert findings(make_claim(), codes=self.codes) == set()

    def test_code_missing_from_a_partial_table_is_a_warning(self) -> None:
        claim = make_claim(lines__0__procedure_code="85025")
        assert findings(claim, codes=self.codes) == {("procedure.unlisted", PATH)}
        assert report(claim, codes=self.codes).errors == []

    def test_code_missing_from_a_system_loaded_in_full_is_an_error(self) -> None:
        codes = CodeSets(procedures=self.codes.procedures, loaded_in_full=frozenset({CodeSystem.CPT}))
        claim = make_claim(lines__0__procedure_code="85025")
        assert findings(claim, codes=codes) == {("procedure.known", PATH)}
        assert [issue.rule_id for issue in report(claim, codes=codes).errors] == ["procedure.known"]

    def test_a_full_load_of_one_system_leaves_the_other_a_warning(self) -> None:
        codes = CodeSets(procedures=self.codes.procedures, loaded_in_full=frozenset({CodeSystem.CPT}))
        claim = make_claim(lines__0__procedure_code="G0483")
        assert findings(claim, codes=codes) == {("procedure.unlisted", PATH)}

    def test_without_a_table_only_the_format_is_checked(self) -> None:
        assert findings(make_claim(lines__0__procedure_code="85025")) == set()

    def test_code_marked_not_billable_fails(self) -> None:
        claim = make_claim(lines__0__procedure_code="G0103")
        assert findings(claim, codes=self.codes) == {("procedure.billable", PATH)}

    def test_terminated_code_fails_after_and_passes_on_its_last_day(self) -> None:
        claim = make_claim(lines__0__procedure_code="80050")
        assert findings(claim, codes=self.codes) == {("procedure.active", PATH)}
        earlier = make_claim(
            lines__0__procedure_code="80050", lines__0__service_date=service_date() - timedelta(days=1)
        )
        assert findings(earlier, codes=self.codes) == set()

    def test_code_not_yet_effective_fails(self) -> None:
        claim = make_claim(lines__0__procedure_code="0001U")
        assert findings(claim, codes=self.codes) == {("procedure.active", PATH)}

    def test_malformed_code_is_reported_by_format_alone(self) -> None:
        assert findings(make_claim(lines__0__procedure_code="8005"), codes=self.codes) == {("procedure.format", PATH)}


class TestModifiers:
    def test_up_to_four_well_formed_modifiers_pass(self) -> None:
        assert findings(make_claim(lines__0__modifiers=["26", "TC", "59", "QW"])) == set()

    def test_five_modifiers_fail(self) -> None:
        claim = make_claim(lines__0__modifiers=["26", "TC", "59", "QW", "91"])
        assert findings(claim) == {("modifier.count", "lines[0].modifiers")}

    @pytest.mark.parametrize("modifier", ["2", "TCX", "t1", "-9"])
    def test_a_modifier_that_is_not_two_alphanumerics_fails(self, modifier: str) -> None:
        claim = make_claim(lines__0__modifiers=["26", modifier])
        assert findings(claim) == {("modifier.format", "lines[0].modifiers[1]")}

    def test_a_repeated_modifier_fails_on_the_repeat(self) -> None:
        claim = make_claim(lines__0__modifiers=["59", "26", "59"])
        assert findings(claim) == {("modifier.duplicate", "lines[0].modifiers[2]")}
