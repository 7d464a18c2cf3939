"""The pure halves of the duplicate-claim edit: the keys to look up, and the issues for the matches found.

The lookup itself (claims already accepted with the same keys) needs the database and runs in
an activity; it calls `duplicate_keys` before the query and `duplicate_issues` after it.
"""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, ConfigDict

from domain.claim import Claim, FrequencyCode
from domain.validation.issues import Severity, ValidationIssue
from domain.validation.registry import MessageContext, render

DUPLICATE_RULE_ID = "claim.duplicate"


class DuplicateKey(BaseModel):
    """Same patient (payer and member), billing provider, procedure and service date: a duplicate line.

    Ids are compared upper case, so `m123456` and `M123456` are the same member.
    """

    model_config = ConfigDict(frozen=True)

    payer_id: str
    member_id: str
    billing_npi: str
    procedure_code: str
    service_date: date


def _line_keys(claim: Claim) -> list[DuplicateKey]:
    payer = claim.insurance.payer_id.upper()
    member = claim.insurance.member_id.upper()
    npi = claim.billing_provider.npi
    return [
        DuplicateKey(
            payer_id=payer,
            member_id=member,
            billing_npi=npi,
            procedure_code=line.procedure_code.upper(),
            service_date=line.service_date,
        )
        for line in claim.lines
    ]


def _checked(claim: Claim) -> bool:
    # A replacement (7) or void (8) repeats its original by design; only originals are checked.
    return claim.frequency_code is FrequencyCode.ORIGINAL


def duplicate_keys(claim: Claim) -> list[DuplicateKey]:
    """The keys to look up among accepted claims: one per line, repeats dropped, in line order.

    Empty for a replacement or void claim, which is meant to match its original.
    """
    if not _checked(claim):
        return []
    return list(dict.fromkeys(_line_keys(claim)))


def duplicate_message(m: MessageContext) -> str:
    """The duplicate edit's message: the line's procedure, the earlier claim and the two ways out."""
    procedure = m.at(f"{m.path}.procedure_code") or "the procedure"
    earlier = m.params.get("claim_id", "an earlier claim")
    return (
        f"the line repeats {procedure} for the same patient, billing provider and service "
        f"date as claim {earlier}, already accepted; to change that claim send a corrected claim "
        "(frequency_code 7 with original_payer_claim_id), otherwise remove the line"
    )


def duplicate_issues(claim: Claim, matches: dict[DuplicateKey, str]) -> list[ValidationIssue]:
    """One `claim.duplicate` error per line whose key matched an accepted claim (key -> claim id)."""
    if not _checked(claim) or not matches:
        return []
    return [
        render(DUPLICATE_RULE_ID, Severity.ERROR, f"lines[{i}]", {"claim_id": earlier}, claim, duplicate_message)
        for i, key in enumerate(_line_keys(claim))
        if (earlier := matches.get(key)) is not None
    ]
