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
from domain.integrations import Adapter

#: The claim's integration speaks X12 but the worker has no X12 envelope (CLAIMFLOW_X12_*) to address it with.
X12_NOT_CONFIGURED = "x12_not_configured"


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

    def adapter(self, adapter: Adapter | None) -> ProcessorAdapter:
        """The adapter of the claim's resolved integration: X12 (when an X12 envelope is configured), else JSON."""
        if adapter is Adapter.X12:
            if self._x12 is None:
                raise business_failure(
                    X12_NOT_CONFIGURED, "the claim's integration speaks X12 but no X12 envelope is configured"
                )
            return self._x12
        return self._json

    @activity.defn(name=SUBMIT_CLAIM.name)
    async def submit_claim(self, input: SubmitClaimInput) -> SubmissionReceipt:
        async with UnitOfWork(self._sessions) as uow:
            try:
                claim = await uow.claims.load_claim(input.claim_id)
            except ClaimNotFoundError as exc:
                raise business_failure(CLAIM_NOT_FOUND, str(exc)) from exc
        try:
            receipt = await self.adapter(input.adapter).submit(
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
        adapter = self.adapter(input.adapter)
        try:
            return await adapter.status(input.payer_claim_id, claim_id=input.claim_id)
        except ProcessorRefusedError as exc:
            raise business_failure(PROCESSOR_REFUSED, str(exc)) from exc

    @activity.defn(name=ISSUE_PAYMENT.name)
    async def issue_payment(self, input: IssuePaymentInput) -> IssuePaymentResult:
        adapter = self.adapter(input.adapter)
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
