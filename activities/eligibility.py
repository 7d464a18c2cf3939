"""Eligibility: the exchange the API calls (the payer's adapter, JSON or 270/271, a deadline and a few quick retries),
and the activity ClaimWorkflow runs before submission through the same adapters."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

import httpx
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio import activity

from activities.contracts import (
    CHECK_ELIGIBILITY,
    CLAIM_NOT_FOUND,
    ELIGIBILITY_NOT_ANSWERED,
    CheckEligibilityInput,
    EligibilityCheck,
    business_failure,
)
from activities.integrations import route_of
from activities.processor import ProcessorActivities
from activities.processor_client import (
    ProcessorAdapter,
    ProcessorAnswerError,
    ProcessorRefusedError,
    ProcessorUnavailableError,
)
from db.errors import ClaimNotFoundError
from db.uow import UnitOfWork
from domain.claim import Claim
from domain.eligibility import EligibilityInquiry, EligibilityResult, PayerAnswerError, PayerUnavailableError
from domain.errors import DomainError
from domain.integrations import check_submittable

log = logging.getLogger(__name__)

#: Tries per inquiry, and the pause before the second (doubled before each next one).
ATTEMPTS = 3
FIRST_BACKOFF_SECONDS = 0.2
#: CAQH CORE expects a real-time answer within 20 seconds; the caller waits no longer than this in all.
DEADLINE_SECONDS = 20.0


class EligibilityExchange:
    """Asks the payer's processor about a member's coverage, synchronously: a real-time 270/271 is a request and its
    answer, so it runs in the API's request (not in a workflow) with a deadline; a payer that stays down is
    PayerUnavailableError (the API's 503 with Retry-After), a refusal or an unreadable answer PayerAnswerError."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        processor: ProcessorActivities,
        *,
        auto_provision: bool = False,
        attempts: int = ATTEMPTS,
        first_backoff: float = FIRST_BACKOFF_SECONDS,
        deadline: float = DEADLINE_SECONDS,
    ) -> None:
        self._sessions = sessions
        self._processor = processor
        self._auto_provision = auto_provision
        self._attempts = attempts
        self._first_backoff = first_backoff
        self._deadline = deadline

    async def check(self, inquiry: EligibilityInquiry, org_id: str) -> EligibilityResult:
        """The payer's answer, through the integration the organization's claims to this payer go through."""
        adapter = await self._adapter(org_id, inquiry.insurance.payer_id)
        try:
            async with asyncio.timeout(self._deadline):
                return await self._with_retries(adapter.eligibility, inquiry)
        except TimeoutError:
            raise PayerUnavailableError(
                f"the payer's processor did not answer the eligibility inquiry within {self._deadline:g} seconds; "
                "try again later"
            ) from None
        except (ProcessorRefusedError, ProcessorAnswerError) as exc:
            raise PayerAnswerError(f"{exc}; the inquiry was not answered") from None

    async def _adapter(self, org_id: str, payer_id: str) -> ProcessorAdapter:
        """The organization's enabled integration for the payer (its route, else its default), by the rules a
        claim's submission follows (IntegrationNotEnabledError or PayerInactiveError, 409, say what to do)."""
        integration, active = await route_of(self._sessions, org_id, payer_id, auto_provision=self._auto_provision)
        submittable = check_submittable(payer_id, active, integration)
        return self._processor.adapter(submittable.adapter).bound(submittable)

    async def _with_retries(
        self, call: Callable[[EligibilityInquiry], Awaitable[EligibilityResult]], inquiry: EligibilityInquiry
    ) -> EligibilityResult:
        backoff = self._first_backoff
        for attempt in range(1, self._attempts + 1):
            try:
                return await call(inquiry)
            except (ProcessorUnavailableError, httpx.TransportError) as exc:
                log.warning(
                    "eligibility.processor_unavailable",
                    extra={"attempt": attempt, "error": type(exc).__name__},
                )
                if attempt == self._attempts:
                    break
                await asyncio.sleep(backoff)
                backoff *= 2
        raise PayerUnavailableError(
            f"the payer's processor is unavailable (no answer after {self._attempts} tries); try again later"
        )


class ClaimEligibilityActivities:
    """The eligibility check ClaimWorkflow runs before submission: the claim's patient, insurance and billing provider
    and its first service date, asked through the integration's adapter (the same exchange as POST /v1/eligibility);
    the answer is kept with the claim, the workflow gets flags and field names only. A payer that is down raises,
    so Temporal's retry policy retries it; a refusal or an unreadable answer is not retried."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], processor: ProcessorActivities) -> None:
        self._sessions = sessions
        self._processor = processor

    @activity.defn(name=CHECK_ELIGIBILITY.name)
    async def check_claim_eligibility(self, input: CheckEligibilityInput) -> EligibilityCheck:
        async with UnitOfWork(self._sessions) as uow:
            record = await uow.claims.get_record(input.claim_id)
            if record is None:
                raise business_failure(CLAIM_NOT_FOUND, str(ClaimNotFoundError(input.claim_id)))
            claim = record.claim
            integration = await uow.integrations.resolve(record.org_id, claim.insurance.payer_id)
        inquiry = _inquiry(claim)
        try:
            result = await self._processor.adapter(input.adapter).bound(integration).eligibility(inquiry)
        except (ProcessorRefusedError, ProcessorAnswerError) as exc:
            raise business_failure(ELIGIBILITY_NOT_ANSWERED, f"{exc}; the inquiry was not answered") from None
        except DomainError as exc:  # an X12 envelope that may not be sent (production with the dev ids, named)
            raise business_failure(exc.code, exc.message) from None
        if not result.active:
            result = result.without_benefits()
        async with UnitOfWork(self._sessions) as uow:
            await uow.eligibility.record(input.claim_id, result, datetime.now(UTC))
            await uow.commit()
        activity.logger.info(
            "claim.eligibility_checked",
            extra={"claim_id": input.claim_id, "active": result.active, "mismatches": len(result.mismatches)},
        )
        return EligibilityCheck(active=result.active, mismatches=[field.value for field in result.mismatches])


def _inquiry(claim: Claim) -> EligibilityInquiry:
    """The 270's question from the claim: its patient, insurance and billing provider, on its first service date."""
    try:
        return EligibilityInquiry.model_validate(
            {
                "patient": claim.patient.model_dump(
                    include={"first_name", "last_name", "date_of_birth", "sex", "member_id"}
                ),
                "insurance": claim.insurance.model_dump(include={"payer_id", "member_id", "group_number"}),
                "provider": {"npi": claim.billing_provider.npi, "name": claim.billing_provider.name},
                "service_date": min(line.service_date for line in claim.lines),
            }
        )
    except ValidationError as exc:  # its values (PHI) stay out of the failure: only which fields
        fields = sorted({".".join(str(part) for part in error["loc"]) for error in exc.errors()})
        raise business_failure(
            ELIGIBILITY_NOT_ANSWERED, f"the claim's {', '.join(fields)} cannot be sent in an eligibility inquiry"
        ) from None
