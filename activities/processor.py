"""Activities that talk to the claims processor: submit, poll status, issue payment."""

from __future__ import annotations

import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio import activity

from activities.contracts import (
    CLAIM_NOT_FOUND,
    ISSUE_PAYMENT,
    POLL_CLAIM_STATUS,
    PROCESSOR_REFUSED,
    SUBMIT_CLAIM,
    IssuePaymentInput,
    IssuePaymentResult,
    PollStatusInput,
    SubmissionReceipt,
    SubmitClaimInput,
    business_failure,
)
from activities.processor_client import ProcessorAdapter, ProcessorClient, ProcessorRefusedError
from activities.x12.interchange import X12Integration
from activities.x12_adapter import X12ProcessorAdapter
from db.errors import ClaimNotFoundError
from db.uow import UnitOfWork
from domain.adjudication import ProcessorStatus
from domain.errors import DomainError

#: A payer id ending in this is answered in X12 over the CORE envelope (until integrations are kept per organization).
X12_PAYER_SUFFIX = "-X12"


class ProcessorActivities:
    """Every call carries an idempotency key, so a retry after a crash never submits or pays twice."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        http: httpx.AsyncClient,
        processor_url: str,
        callback_base: str | None,
        x12: X12Integration | None = None,
    ) -> None:
        self._sessions = sessions
        self._json = ProcessorClient(http, processor_url)
        self._x12 = None if x12 is None else X12ProcessorAdapter(sessions, http, processor_url, x12)
        self._callback_base = callback_base.rstrip("/") if callback_base else None

    def _adapter(self, payer_id: str) -> ProcessorAdapter:
        """The adapter the payer speaks: X12 for a payer id ending in -X12 (when an X12 integration is set), JSON."""
        if payer_id.upper().endswith(X12_PAYER_SUFFIX) and self._x12 is not None:
            return self._x12
        return self._json

    async def _payer_id(self, claim_id: str) -> str:
        """The claim's payer id, read only when an X12 integration could answer for it ("" when unknown: JSON, as
        before adapters, which asks the processor by payer claim id alone)."""
        if self._x12 is None:
            return ""
        async with UnitOfWork(self._sessions) as uow:
            return await uow.x12.payer_of(claim_id) or ""

    @activity.defn(name=SUBMIT_CLAIM.name)
    async def submit_claim(self, input: SubmitClaimInput) -> SubmissionReceipt:
        async with UnitOfWork(self._sessions) as uow:
            try:
                claim = await uow.claims.load_claim(input.claim_id)
            except ClaimNotFoundError as exc:
                raise business_failure(CLAIM_NOT_FOUND, str(exc)) from exc
        try:
            receipt = await self._adapter(claim.insurance.payer_id).submit(
                input.claim_id,
                claim,
                idempotency_key=input.idempotency_key,
                callback_url=f"{self._callback_base}/{input.claim_id}" if self._callback_base else None,
            )
        except ProcessorRefusedError as exc:
            raise business_failure(PROCESSOR_REFUSED, str(exc)) from exc
        except DomainError as exc:  # the claim cannot be written in the payer's dialect (an 837P's gaps, named)
            raise business_failure(exc.code, exc.message) from exc
        activity.logger.info(
            "claim.submitted",
            extra={
                "claim_id": input.claim_id,
                "payer_claim_id": receipt.payer_claim_id,
                "category": receipt.category.value,
            },
        )
        return receipt

    @activity.defn(name=POLL_CLAIM_STATUS.name)
    async def poll_claim_status(self, input: PollStatusInput) -> ProcessorStatus:
        adapter = self._adapter(await self._payer_id(input.claim_id))
        try:
            return await adapter.status(input.payer_claim_id, claim_id=input.claim_id)
        except ProcessorRefusedError as exc:
            raise business_failure(PROCESSOR_REFUSED, str(exc)) from exc

    @activity.defn(name=ISSUE_PAYMENT.name)
    async def issue_payment(self, input: IssuePaymentInput) -> IssuePaymentResult:
        adapter = self._adapter(await self._payer_id(input.claim_id))
        try:
            receipt = await adapter.pay(
                input.claim_id, input.payer_claim_id, input.lines, idempotency_key=input.idempotency_key
            )
        except ProcessorRefusedError as exc:
            raise business_failure(PROCESSOR_REFUSED, str(exc)) from exc
        activity.logger.info(
            "claim.paid",
            extra={"claim_id": input.claim_id, "payment_id": receipt.payment_id, "amount": str(receipt.amount)},
        )
        return IssuePaymentResult(payment_id=receipt.payment_id, amount=receipt.amount)
