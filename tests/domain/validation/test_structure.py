"""Structure rules: pointers, control numbers, place of service, frequency references, payer and member ids."""

from __future__ import annotations

import pytest

from tests.domain.factories import line_body, make_claim
from tests.domain.validation.support import findings, report

FIVE = ["E11.9", "I10", "E78.5", "R73.09", "D64.9"]


class TestPointers:
    def test_pointers_to_listed_diagnoses_pass(self) -> None:
        assert findings(make_claim(lines__0__diagnosis_pointers=[2, 1])) == set()

    @pytest.mark.parametrize("pointer", [0, 3, 13, -1])
    def test_a_pointer_past_the_list_fails(self, pointer: int) -> None:
        claim = make_claim(lines__0__diagnosis_pointers=[1, 2, pointer])
        assert findings(claim) == {("pointer.exists", "lines[0].diagnosis_pointers[2]")}

    def test_four_pointers_pass_and_five_fail(self) -> None:
        four = make_claim(diagnosis_codes=FIVE[:4], lines__0__diagnosis_pointers=[1, 2, 3, 4])
        assert findings(four) == set()
        lines = [line_body(diagnosis_pointers=[1, 2, 3, 4, 5])]
        assert findings(make_claim(diagnosis_codes=FIVE, lines=lines)) == {
            ("pointer.count", "lines[0].diagnosis_pointers")
        }

    def test_a_repeated_pointer_fails_on_the_repeat(self) -> None:
        claim = make_claim(lines__0__diagnosis_pointers=[1, 2, 1])
        assert findings(claim) == {("pointer.duplicate", "lines[0].diagnosis_pointers[2]")}


class TestLineControlNumber:
    def test_distinct_numbers_pass(self) -> None:
        lines = [line_body(line_control_number="A"), line_body(line_control_number="B")]
        assert findings(make_claim(lines=lines)) == set()

    def test_a_repeated_number_fails_on_the_repeat(self) -> None:
        lines = [
            line_body(line_control_number="A"),
            line_body(line_control_number="B"),
            line_body(line_control_number="A"),
        ]
        assert findings(make_claim(lines=lines)) == {("line_control_number.unique", "lines[2].line_control_number")}


class TestPlaceOfService:
    @pytest.mark.parametrize("pos", ["81", "11", "99"])
    def test_two_digits_pass(self, pos: str) -> None:
        assert findings(make_claim(lines__0__place_of_service=pos)) == set()

    @pytest.mark.parametrize("pos", ["00", "8A", "XX"])
    def test_anything_else_fails(self, pos: str) -> None:
        assert findings(make_claim(lines__0__place_of_service=pos)) == {
            ("place_of_service.format", "lines[0].place_of_service")
        }


class TestPatientControlNumber:
    def test_seventeen_characters_pass(self) -> None:
        assert findings(make_claim(patient_control_number="P" * 17)) == set()

    def test_eighteen_characters_fail(self) -> None:
        assert findings(make_claim(patient_control_number="P" * 18)) == {
            ("patient_control_number.length", "patient_control_number")
        }


class TestFrequency:
    @pytest.mark.parametrize("frequency", ["7", "8"])
    def test_replacement_or_void_with_the_original_id_passes(self, frequency: str) -> None:
        assert findings(make_claim(frequency_code=frequency, original_payer_claim_id="PAYER-991")) == set()

    @pytest.mark.parametrize("frequency", ["7", "8"])
    def test_replacement_or_void_without_it_fails(self, frequency: str) -> None:
        assert findings(make_claim(frequency_code=frequency)) == {
            ("original_claim_id.required", "original_payer_claim_id")
        }

    def test_original_with_an_original_id_warns(self) -> None:
        claim = make_claim(frequency_code="1", original_payer_claim_id="PAYER-991")
        assert findings(claim) == {("original_claim_id.unexpected", "original_payer_claim_id")}
        assert report(claim).valid


class TestPayerAndMember:
    @pytest.mark.parametrize("value", ["N/A", "unknown", "00000", "NONE", "-", "XXXXXX"])
    def test_placeholder_payer_id_fails(self, value: str) -> None:
        assert findings(make_claim(insurance__payer_id=value)) == {("payer_id.present", "insurance.payer_id")}

    @pytest.mark.parametrize("value", ["N/A", "TBD", "000000000"])
    def test_placeholder_member_id_fails_without_a_mismatch_warning(self, value: str) -> None:
        assert findings(make_claim(insurance__member_id=value)) == {("member_id.present", "insurance.member_id")}

    @pytest.mark.parametrize("value", ["X000000", "99999", "0X"])
    def test_ids_that_merely_contain_zeros_or_x_pass(self, value: str) -> None:
        claim = make_claim(insurance__payer_id=value, insurance__member_id=value, patient__member_id=value)
        assert findings(claim) == set()

    def test_real_ids_pass(self) -> None:
        assert findings(make_claim(insurance__payer_id="60054", insurance__member_id="W123456789")) == {
            ("member_id.mismatch", "patient.member_id")
        }
        assert findings(make_claim(insurance__payer_id="60054")) == set()

    def test_member_ids_differing_warns_without_echoing_them(self) -> None:
        claim = make_claim(patient__member_id="M999999")
        assert findings(claim) == {("member_id.mismatch", "patient.member_id")}
        (issue,) = report(claim).warnings
        assert "M999999" not in issue.message and "M123456" not in issue.message

    def test_member_ids_differing_only_in_case_and_hyphens_pass(self) -> None:
        assert findings(make_claim(patient__member_id="m-123456")) == set()
