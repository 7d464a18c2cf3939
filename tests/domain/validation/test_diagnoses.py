"""Diagnosis rules: ICD-10-CM existence, billability on the service date, count, order and use."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from domain.codes import CodeEntry, CodeSets, CodeTable
from tests.domain.factories import line_body, make_claim, service_date
from tests.domain.validation.support import findings, report, rule_ids


def test_the_default_claim_has_no_findings() -> None:
    assert findings(make_claim()) == set()


class TestExists:
    @pytest.mark.parametrize("code", ["E11.99", "ZZZ", "123", "E11.9X"])
    def test_unknown_code_fails(self, code: str) -> None:
        assert findings(make_claim(diagnosis_codes=["I10", code], lines__0__diagnosis_pointers=[1, 2])) == {
            ("icd10.exists", "diagnosis_codes[1]")
        }

    def test_known_code_without_dot_passes(self) -> None:
        assert findings(make_claim(diagnosis_codes=["E119", "I10"])) == set()


class TestBillable:
    def test_category_fails_and_leaf_passes(self) -> None:
        assert findings(make_claim(diagnosis_codes=["E11", "I10"])) == {("icd10.billable", "diagnosis_codes[0]")}
        assert findings(make_claim(diagnosis_codes=["E11.9", "I10"])) == set()

    def test_i10_is_a_billable_three_character_code(self) -> None:
        assert findings(make_claim(diagnosis_codes=["I10"], lines__0__diagnosis_pointers=[1])) == set()

    def test_message_names_the_code_and_its_subdivisions(self) -> None:
        (issue,) = report(make_claim(diagnosis_codes=["E11", "I10"])).errors
        assert "E11 is a category" in issue.message
        assert "it divides into E11.0..." in issue.message

    def test_an_override_can_make_a_code_unbillable(self) -> None:
        codes = CodeSets(icd10_overrides=CodeTable([CodeEntry(code="I10", billable=False)]))
        assert findings(make_claim(), codes=codes) == {("icd10.billable", "diagnosis_codes[1]")}


class TestActive:
    retired = date.today() - timedelta(days=30)
    codes = CodeSets(icd10_overrides=CodeTable([CodeEntry(code="E11.9", termination_date=retired)]))

    def test_code_terminated_before_the_service_date_fails(self) -> None:
        claim = make_claim(lines__0__service_date=self.retired + timedelta(days=1))
        assert findings(claim, codes=self.codes) == {("icd10.active", "diagnosis_codes[0]")}
        (issue,) = report(claim, codes=self.codes).errors
        assert f"retired after {self.retired}" in issue.message
        assert "lines[0]" in issue.message

    def test_same_code_passes_for_an_earlier_service_date(self) -> None:
        assert findings(make_claim(lines__0__service_date=self.retired), codes=self.codes) == set()

    def test_judged_on_the_lines_that_point_at_it(self) -> None:
        lines = [
            line_body(service_date=self.retired - timedelta(days=5), diagnosis_pointers=[1]),
            line_body(service_date=service_date(), diagnosis_pointers=[2], line_control_number="L2"),
        ]
        assert findings(make_claim(lines=lines), codes=self.codes) == set()

    def test_code_not_yet_effective_fails(self) -> None:
        starts = date.today() + timedelta(days=10)
        codes = CodeSets(icd10_overrides=CodeTable([CodeEntry(code="Z99.99", effective_date=starts)]))
        claim = make_claim(diagnosis_codes=["Z99.99", "I10"])
        assert findings(claim, codes=codes) == {("icd10.active", "diagnosis_codes[0]")}
        assert f"takes effect on {starts}" in report(claim, codes=codes).errors[0].message


class TestCount:
    twelve = [
        "E11.9",
        "I10",
        "E78.5",
        "R73.09",
        "N18.30",
        "D64.9",
        "Z00.00",
        "Z13.1",
        "R53.83",
        "E03.9",
        "K76.0",
        "E55.9",
    ]

    def test_twelve_codes_pass(self) -> None:
        lines = [line_body(diagnosis_pointers=list(range(k, k + 4)), line_control_number=f"L{k}") for k in (1, 5, 9)]
        assert findings(make_claim(diagnosis_codes=self.twelve, lines=lines)) == set()

    def test_thirteen_codes_fail_once_on_the_list(self) -> None:
        lines = [line_body(diagnosis_pointers=list(range(k, k + 4)), line_control_number=f"L{k}") for k in (1, 5, 9)]
        claim = make_claim(diagnosis_codes=[*self.twelve, "J06.9"], lines=lines)
        assert findings(claim) == {("icd10.count", "diagnosis_codes")}

    def test_no_codes_fail(self) -> None:
        claim = make_claim().model_copy(update={"diagnosis_codes": [], "lines": []})
        assert ("icd10.count", "diagnosis_codes") in findings(claim)


class TestDuplicate:
    def test_same_code_twice_fails_on_the_repeat(self) -> None:
        assert findings(make_claim(diagnosis_codes=["E11.9", "E119"])) == {("icd10.duplicate", "diagnosis_codes[1]")}

    def test_distinct_codes_pass(self) -> None:
        assert "icd10.duplicate" not in rule_ids(make_claim(diagnosis_codes=["E11.9", "E11.8"]))


class TestPrincipal:
    def test_external_cause_first_fails(self) -> None:
        claim = make_claim(diagnosis_codes=["W19.XXXA", "S52.521A"])
        assert findings(claim) == {("icd10.principal", "diagnosis_codes[0]")}

    def test_external_cause_after_the_injury_passes(self) -> None:
        assert findings(make_claim(diagnosis_codes=["S52.521A", "W19.XXXA"])) == set()


class TestUnreferenced:
    def test_code_no_line_points_at_warns(self) -> None:
        claim = make_claim(lines__0__diagnosis_pointers=[1])
        assert findings(claim) == {("icd10.unreferenced", "diagnosis_codes[1]")}
        assert report(claim).valid

    def test_every_code_pointed_at_passes(self) -> None:
        assert "icd10.unreferenced" not in rule_ids(make_claim(lines__0__diagnosis_pointers=[2, 1]))


class TestSex:
    def test_pregnancy_code_on_a_male_patient_warns(self) -> None:
        claim = make_claim(diagnosis_codes=["O26.891", "I10"], patient__sex="M")
        assert findings(claim) == {("icd10.sex", "diagnosis_codes[0]")}
        assert report(claim).valid

    def test_pregnancy_code_on_a_female_patient_passes(self) -> None:
        assert findings(make_claim(diagnosis_codes=["O26.891", "I10"], patient__sex="F")) == set()
