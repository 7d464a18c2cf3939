"""The full check of a claim: every pure edit plus the database-backed duplicate-claim edit."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

from db.edit_tables import claim_edit_tables
from db.uow import UnitOfWork
from domain.claim import Claim
from domain.codes import CodeSets
from domain.validation import ValidationReport, validate_claim
from domain.validation.duplicates import duplicate_issues, duplicate_keys


async def check_claim(
    uow: UnitOfWork, claim: Claim, *, claim_id: str | None, org_id: str, today: date, codes: CodeSets
) -> ValidationReport:
    """Validate a claim against the code sets and the organization's claims already accepted; reads only.

    The CMS edit tables are read for this claim's codes alone (the full files hold millions of pairs).
    """
    codes = replace(codes, edits=await claim_edit_tables(uow.session, claim))
    report = validate_claim(claim, today=today, codes=codes)
    keys = duplicate_keys(claim)
    if not keys:
        return report
    found = await uow.claims.find_duplicates(
        claim_id=claim_id or "",
        org_id=org_id,
        payer_id=claim.insurance.payer_id,
        member_id=claim.insurance.member_id,
        billing_npi=claim.billing_provider.npi,
        lines=[(key.procedure_code, key.service_date) for key in keys],
    )
    matches = {
        key: found[(key.procedure_code, key.service_date)]
        for key in keys
        if (key.procedure_code, key.service_date) in found
    }
    if not matches:
        return report
    return ValidationReport(issues=[*report.issues, *duplicate_issues(claim, matches)])
