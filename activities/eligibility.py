"""The eligibility exchange the API calls: the payer's adapter (JSON or 270/271), a deadline and a few quick retries."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from activities.processor import ProcessorActivities
from activities.processor_client import (
    ProcessorAdapter,
    ProcessorAnswerError,
    ProcessorRefusedError,
    ProcessorUnavailableError,
)
from db.uow import UnitOfWork
from domain.eligibility import EligibilityInquiry, EligibilityResult, PayerAnswerError, PayerUnavailableError
from domain.integrations import SANDBOX_INTEGRATIONS, check_submittable

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
        async with UnitOfWork(self._sessions) as uow:
            if self._auto_provision and await uow.integrations.provision(org_id, SANDBOX_INTEGRATIONS):
                await uow.commit()
            integration = await uow.integrations.resolve(org_id, payer_id)
            active = await uow.integrations.payer_active(payer_id)
        integration = check_submittable(payer_id, active is not False, integration)
        return self._processor._adapter(integration.adapter)

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
