"""The message table: findings carry rule ids, paths and parameters; the message is read from the claim when shown."""

from __future__ import annotations

from domain.validation import DUPLICATE_RULE_ID, RULES, ValidationFinding, describe, duplicate_issues
from domain.validation.duplicates import duplicate_keys
from domain.validation.messages import ELIGIBILITY_RULE_IDS, MESSAGES
from tests.domain.factories import make_claim
from tests.domain.validation.support import report


def test_every_rule_and_the_duplicate_edit_have_a_message() -> None:
    assert set(MESSAGES) == {rule.id for rule in RULES} | {DUPLICATE_RULE_ID} | ELIGIBILITY_RULE_IDS


def test_a_pregnancy_code_on_a_male_patient_is_a_finding_without_the_code_or_the_sex() -> None:
    claim = make_claim(patient={"sex": "M"}, diagnosis_codes=["O09.90"])
    (issue,) = [i for i in report(claim).issues if i.rule_id == "icd10.sex"]

    assert issue.finding().model_dump(mode="json") == {
        "rule_id": "icd10.sex",
        "path": "diagnosis_codes[0]",
        "severity": "warning",
        "params": {},
    }
    assert describe(issue.finding(), claim).message == (
        "O09.90 is a pregnancy code and the patient is recorded as male; check the diagnosis code and the patient's sex"
    )


def test_the_duplicate_edit_keeps_the_earlier_claim_id_and_reads_the_procedure_from_the_claim() -> None:
    claim = make_claim()
    (key,) = duplicate_keys(claim)
    (issue,) = duplicate_issues(claim, {key: "claim-0a1b"})

    assert issue.finding().params == {"claim_id": "claim-0a1b"}
    assert describe(issue.finding(), claim) == issue
    assert f"repeats {claim.lines[0].procedure_code}" in issue.message


def test_a_finding_of_an_unknown_rule_still_names_its_field() -> None:
    finding = ValidationFinding(rule_id="retired.rule", path="lines[0].charge")
    issue = describe(finding, make_claim())
    assert issue.rule_id == "retired.rule" and "lines[0].charge" in issue.message


def test_a_path_that_leads_nowhere_reads_as_empty() -> None:
    finding = ValidationFinding(rule_id="icd10.exists", path="diagnosis_codes[9]")
    assert describe(finding, make_claim()).message.startswith("(empty) is not an ICD-10-CM code")
