"""The message table: a stored finding (rule id, path, parameters) rendered as the issue the API shows."""

from __future__ import annotations

from domain.claim import Claim
from domain.validation.duplicates import DUPLICATE_RULE_ID, duplicate_message
from domain.validation.issues import ValidationFinding, ValidationIssue
from domain.validation.registry import Explain, MessageContext, describe_with
from domain.validation.rules import RULES

#: The eligibility check's findings (the workflow's, before submission): a mismatch names fields, never values.
ELIGIBILITY_MISMATCH_RULE = "eligibility.mismatch"
ELIGIBILITY_UNCHECKED_RULE = "eligibility.unchecked"
ELIGIBILITY_RULE_IDS = frozenset({ELIGIBILITY_MISMATCH_RULE, ELIGIBILITY_UNCHECKED_RULE})


def _eligibility_mismatch(m: MessageContext) -> str:
    fields = ", ".join(m.params.get("fields", "").split(","))
    return (
        f"the payer's record of the member differs in {fields}; check them against the insurance card "
        "(a claim whose demographics disagree with the payer's may be rejected)"
    )


def _eligibility_unchecked(m: MessageContext) -> str:
    return (
        "the payer did not answer the eligibility inquiry in time; the claim was sent without the check "
        "(POST /v1/eligibility asks again)"
    )


#: Every rule's message by its id: the pure rules', the duplicate edit's and the eligibility check's.
MESSAGES: dict[str, Explain] = {
    **{rule.id: rule.message for rule in RULES},
    DUPLICATE_RULE_ID: duplicate_message,
    ELIGIBILITY_MISMATCH_RULE: _eligibility_mismatch,
    ELIGIBILITY_UNCHECKED_RULE: _eligibility_unchecked,
}


def _unknown(m: MessageContext) -> str:
    return f"the claim fails an edit at {m.path}; correct that field"


def describe(finding: ValidationFinding, claim: Claim) -> ValidationIssue:
    """The finding with its message, read from the claim now (the same message the check gave when it ran)."""
    return describe_with(finding, claim, MESSAGES.get(finding.rule_id, _unknown))


def describe_all(findings: list[ValidationFinding], claim: Claim) -> list[ValidationIssue]:
    return [describe(finding, claim) for finding in findings]
