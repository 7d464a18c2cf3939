"""Eligibility use case: ask the member's payer about coverage (a 270/271 exchange), audited without PHI.

A submitter asks for any member: a lab checks a patient's insurance before it has a claim, and a member belongs
to no organization. The answer is the caller's alone; the audit entry names the organization, the payer, the
service type and what the payer said (coverage, the mismatched fields' names), never the person.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Protocol

from db.uow import UnitOfWork
from domain.eligibility import (
    EligibilityInquiry,
    EligibilityNotConfiguredError,
    EligibilityResult,
    PayerAnswerError,
    PayerUnavailableError,
)
from services.access import Principal
from services.context import ServiceContext
from services.errors import ForbiddenError, InvalidFieldError

__all__ = ["EligibilityPort", "PayerAnswerError", "PayerUnavailableError", "check_eligibility"]


class EligibilityPort(Protocol):
    """The exchange with the payer's processor (built by the composition root: activities/eligibility.py)."""

    async def check(self, inquiry: EligibilityInquiry, org_id: str) -> EligibilityResult: ...


async def check_eligibility(
    context: ServiceContext, principal: Principal, inquiry: EligibilityInquiry, exchange: EligibilityPort | None
) -> EligibilityResult:
    """The payer's answer to the inquiry. The payer must be known; no transaction is open while the payer answers."""
    if principal.org is None:  # only submitters reach here, and their tokens name their organization
        raise ForbiddenError("an eligibility inquiry is made for an organization: use a submitter's token")
    if exchange is None:
        raise EligibilityNotConfiguredError("no processor integration answers eligibility inquiries here")
    payer_id = inquiry.insurance.payer_id
    async with UnitOfWork(context.sessions) as uow:
        known = await uow.x12.payer_name(payer_id) is not None
    if not known:
        raise InvalidFieldError(
            "insurance.payer_id: no such payer; use the payer id your claims to this payer carry",
            path="insurance.payer_id",
            problem="unknown payer",
            rule="payer.known",
        )
    details: dict[str, object] = {
        "organization": principal.org,
        "payer_id": payer_id,
        "service_type_code": inquiry.service_type_code,
    }
    try:
        result = await exchange.check(inquiry, principal.org)
    except (PayerUnavailableError, PayerAnswerError) as exc:
        await _audit(context, principal, {**details, "outcome": exc.code})
        raise
    await _audit(
        context,
        principal,
        {
            **details,
            "outcome": "answered",
            "coverage": result.coverage.value,
            "mismatches": [field.value for field in result.mismatches],
        },
    )
    return result


async def _audit(context: ServiceContext, principal: Principal, details: dict[str, object]) -> None:
    async with UnitOfWork(context.sessions) as uow:
        await uow.audit.append(
            claim_id=None,
            actor=principal.label,
            action="eligibility.checked",
            at=datetime.now(UTC),
            details=details,
            event_key=f"eligibility-{uuid.uuid4().hex}",
        )
        await uow.commit()
