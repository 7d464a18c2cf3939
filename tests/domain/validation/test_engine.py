"""The engine and its rule table: every failure at once, stable ids, owned paths, no PHI."""

from __future__ import annotations

import re
from datetime import date, timedelta

from domain.validation import RULES, Severity, validate_claim
from domain.validation.registry import Rule
from tests.domain.factories import line_body, make_claim
from tests.domain.validation.support import report

RULE_ID = re.compile(r"[a-z0-9_]+(\.[a-z0-9_]+)+")


class TestRuleTable:
    def test_rule_ids_are_unique_and_dotted(self) -> None:
        ids = [rule.id for rule in RULES]
        assert len(ids) == len(set(ids))
        assert all(RULE_ID.fullmatch(rule_id) for rule_id in ids)

    def test_every_rule_names_its_field_and_summary(self) -> None:
        assert all(rule.owns and rule.summary and callable(rule.check) for rule in RULES)

    def test_there_are_warnings_as_well_as_errors(self) -> None:
        assert {rule.severity for rule in RULES} == {Severity.ERROR, Severity.WARNING}

    def test_owns_path_ignores_indices_and_matches_any_provider(self) -> None:
        by_id = {rule.id: rule for rule in RULES}
        assert by_id["modifier.format"].owns_path("lines[3].modifiers[1]")
        assert by_id["npi.check_digit"].owns_path("referring_provider.npi")
        assert not by_id["charge.positive"].owns_path("lines[0].units")
        assert not by_id["total_charge.sum"].owns_path("total_charges")


class TestValidateClaim:
    def test_a_valid_claim_is_valid(self) -> None:
        result = report(make_claim())
        assert result.valid and result.issues == []

    def test_every_failure_is_reported_at_once(self) -> None:
        today = date.today()
        lines = [
            line_body(procedure_code="8005", charge="0.00", diagnosis_pointers=[1, 9]),
            line_body(service_date=today + timedelta(days=1), line_control_number="L1", units=0),
        ]
        claim = make_claim(
            diagnosis_codes=["E11", "E11.99"],
            lines=lines,
            billing_provider__npi="1234567890",
            total_charge="99.00",
            frequency_code="7",
        )
        found = {(i.rule_id, i.path) for i in report(claim).issues}
        assert found == {
            ("icd10.billable", "diagnosis_codes[0]"),
            ("icd10.exists", "diagnosis_codes[1]"),
            ("procedure.format", "lines[0].procedure_code"),
            ("npi.check_digit", "billing_provider.npi"),
            ("service_date.future", "lines[1].service_date"),
            ("charge.positive", "lines[0].charge"),
            ("units.positive", "lines[1].units"),
            ("total_charge.sum", "total_charge"),
            ("pointer.exists", "lines[0].diagnosis_pointers[1]"),
            ("line_control_number.unique", "lines[1].line_control_number"),
            ("original_claim_id.required", "original_payer_claim_id"),
        }

    def test_issues_follow_the_rule_table_order(self) -> None:
        claim = make_claim(total_charge="1.00", diagnosis_codes=["E11", "I10"])
        order = [rule.id for rule in RULES]
        ids = [i.rule_id for i in report(claim).issues]
        assert ids == sorted(ids, key=order.index)

    def test_a_custom_rule_table_can_be_passed(self) -> None:
        def always(_ctx: object) -> list[tuple[str, dict[str, str]]]:
            return [("total_charge", {})]

        rule = Rule(
            "test.always", Severity.WARNING, "total_charge", "always", always, lambda m: f"{m.text} always fails"
        )
        result = validate_claim(make_claim(), today=date.today(), rules=[rule])
        assert [(i.rule_id, i.severity, i.message) for i in result.issues] == [
            ("test.always", Severity.WARNING, "45.00 always fails")
        ]

    def test_messages_never_carry_the_patient_name_or_date_of_birth(self) -> None:
        born = date(1980, 4, 12)
        claim = make_claim(
            patient={"first_name": "Zebedee", "last_name": "Quillfeather", "date_of_birth": born, "member_id": "X1"},
            lines__0__service_date=born - timedelta(days=1),
            diagnosis_codes=["E11", "ZZZ"],
        )
        messages = " ".join(issue.message for issue in report(claim).issues)
        assert messages
        assert "Zebedee" not in messages and "Quillfeather" not in messages
        assert born.isoformat() not in messages and "1980" not in messages
