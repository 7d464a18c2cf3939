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
from activities.processor_client import ProcessorClient, ProcessorRefusedError
from db.errors import ClaimNotFoundError
from db.uow import UnitOfWork
from domain.adjudication import ProcessorStatus


class ProcessorActivities:
    """Every call carries an idempotency key, so a retry after a crash never submits or pays twice."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        http: httpx.AsyncClient,
        processor_url: str,
        callback_base: str | None,
    ) -> None:
        self._sessions = sessions
        self._client = ProcessorClient(http, processor_url)
        self._callback_base = callback_base.rstrip("/") if callback_base else None

    @activity.defn(name=SUBMIT_CLAIM.name)
    async def submit_claim(self, input: SubmitClaimInput) -> SubmissionReceipt:
        async with UnitOfWork(self._sessions) as uow:
            try:
                claim = await uow.claims.load_claim(input.claim_id)
            except ClaimNotFoundError as exc:
                raise business_failure(CLAIM_NOT_FOUND, str(exc)) from exc
        try:
            receipt = await self._client.submit(
                input.claim_id,
                claim,
                idempotency_key=input.idempotency_key,
                callback_url=f"{self._callback_base}/{input.claim_id}" if self._callback_base else None,
            )
        except ProcessorRefusedError as exc:
            raise business_failure(PROCESSOR_REFUSED, str(exc)) from exc
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
        try:
            return await self._client.status(input.payer_claim_id)
        except ProcessorRefusedError as exc:
            raise business_failure(PROCESSOR_REFUSED, str(exc)) from exc

    @activity.defn(name=ISSUE_PAYMENT.name)
    async def issue_payment(self, input: IssuePaymentInput) -> IssuePaymentResult:
        try:
            receipt = await self._client.pay(
                input.claim_id, input.payer_claim_id, input.lines, idempotency_key=input.idempotency_key
            )
        except ProcessorRefusedError as exc:
            raise business_failure(PROCESSOR_REFUSED, str(exc)) from exc
        activity.logger.info(
            "claim.paid",
            extra={"claim_id": input.claim_id, "payment_id": receipt.payment_id, "amount": str(receipt.amount)},
        )
        return IssuePaymentResult(payment_id=receipt.payment_id, amount=receipt.amount)
