"""The basic rule set: structure, money and dates (a fuller edit engine replaces it)."""

from __future__ import annotations

from datetime import date

from domain.claim import Claim, FrequencyCode
from domain.money import total
from domain.validation.issues import ValidationIssue, ValidationReport


def validate_claim(claim: Claim, *, today: date) -> ValidationReport:
    """Run every rule over the claim and report every failure at once."""
    issues: list[ValidationIssue] = []

    def fail(rule_id: str, path: str, message: str) -> None:
        issues.append(ValidationIssue(rule_id=rule_id, path=path, message=message))

    for i, line in enumerate(claim.lines):
        at = f"lines[{i}]"
        if line.charge <= 0:
            fail("line.charge.positive", f"{at}.charge", "the charge must be more than 0.00")
        if line.units <= 0:
            fail("line.units.positive", f"{at}.units", "units must be at least 1")
        if line.service_date > today:
            fail(
                "line.service_date.future",
                f"{at}.service_date",
                "the service date is in the future; bill after the service",
            )
        if line.service_date < claim.patient.date_of_birth:
            fail(
                "line.service_date.before_birth",
                f"{at}.service_date",
                "the service date is before the patient's date of birth",
            )
        for j, pointer in enumerate(line.diagnosis_pointers):
            if not 1 <= pointer <= len(claim.diagnosis_codes):
                fail(
                    "line.diagnosis_pointer.exists",
                    f"{at}.diagnosis_pointers[{j}]",
                    f"pointer {pointer} names no diagnosis; use 1..{len(claim.diagnosis_codes)}",
                )
    if claim.total_charge != total([line.charge for line in claim.lines]):
        fail(
            "claim.total_charge.sum",
            "total_charge",
            f"total_charge {claim.total_charge} differs from the sum of the line charges "
            f"{total([line.charge for line in claim.lines])}",
        )
    if claim.patient.date_of_birth > today:
        fail("patient.date_of_birth.future", "patient.date_of_birth", "the date of birth is in the future")
    if claim.frequency_code is not FrequencyCode.ORIGINAL and not claim.original_payer_claim_id:
        fail(
            "claim.original_payer_claim_id.required",
            "original_payer_claim_id",
            "a replacement (7) or void (8) claim must give the payer claim id of the original",
        )
    return ValidationReport(issues=issues)
