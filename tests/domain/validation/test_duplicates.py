"""The pure halves of the duplicate-claim edit: keys per line, issues per matched line."""

from __future__ import annotations

from datetime import timedelta

import pytest
from pydantic import ValidationError

from domain.validation import DUPLICATE_RULE_ID, DuplicateKey, duplicate_issues, duplicate_keys
from tests.domain.factories import BILLING_NPI, line_body, make_claim, service_date


def _key(procedure_code: str = "80053", days_ago: int = 3) -> DuplicateKey:
    return DuplicateKey(
        payer_id="SANDBOX",
        member_id="M123456",
        billing_npi=BILLING_NPI,
        procedure_code=procedure_code,
        service_date=service_date() - timedelta(days=days_ago - 3),
    )


class TestDuplicateKeys:
    def test_one_key_per_line_in_line_order(self) -> None:
        lines = [line_body(procedure_code="80053"), line_body(procedure_code="85025", line_control_number="L2")]
        assert duplicate_keys(make_claim(lines=lines)) == [_key("80053"), _key("85025")]

    def test_repeated_lines_give_one_key(self) -> None:
        lines = [line_body(), line_body(line_control_number="L2")]
        assert duplicate_keys(make_claim(lines=lines)) == [_key()]

    def test_ids_are_compared_upper_case(self) -> None:
        claim = make_claim(insurance__member_id="m123456", lines__0__procedure_code="g0103")
        assert duplicate_keys(claim) == [_key("G0103")]

    @pytest.mark.parametrize("frequency", ["7", "8"])
    def test_a_replacement_or_void_is_not_looked_up(self, frequency: str) -> None:
        assert duplicate_keys(make_claim(frequency_code=frequency, original_payer_claim_id="P-1")) == []

    def test_keys_are_frozen_and_hashable(self) -> None:
        key = _key()
        with pytest.raises(ValidationError):
            key.procedure_code = "85025"  # type: ignore[misc]
        assert {key: "claim-1"}[_key()] == "claim-1"


class TestDuplicateIssues:
    def test_no_match_no_issue(self) -> None:
        assert duplicate_issues(make_claim(), {}) == []
        assert duplicate_issues(make_claim(), {_key("85025"): "claim-old"}) == []

    def test_one_error_per_matched_line(self) -> None:
        lines = [
            line_body(procedure_code="85025"),
            line_body(procedure_code="80053", line_control_number="L2"),
            line_body(procedure_code="80053", line_control_number="L3"),
        ]
        issues = duplicate_issues(make_claim(lines=lines), {_key("80053"): "claim-0a1b"})
        assert [(i.rule_id, i.path, i.severity) for i in issues] == [
            (DUPLICATE_RULE_ID, "lines[1]", "error"),
            (DUPLICATE_RULE_ID, "lines[2]", "error"),
        ]

    def test_message_names_the_earlier_claim_and_the_fix(self) -> None:
        (issue,) = duplicate_issues(make_claim(), {_key(): "claim-0a1b"})
        assert issue.rule_id == "claim.duplicate"
        assert "claim-0a1b" in issue.message
        assert "corrected claim" in issue.message and "frequency_code 7" in issue.message

    def test_a_replacement_is_never_its_own_duplicate(self) -> None:
        claim = make_claim(frequency_code="7", original_payer_claim_id="P-1")
        assert duplicate_issues(claim, {_key(): "claim-0a1b"}) == []
