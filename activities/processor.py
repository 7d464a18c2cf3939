"""Activities that talk to the claims processor: submit, poll status, issue payment."""

from __future__ import annotations

from decimal import Decimal

import httpx
from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio import activity

from activities.errors import CLAIM_NOT_FOUND, PROCESSOR_REFUSED, permanent
from activities.processor_client import ProcessorClient, ProcessorRefusedError, SubmissionReceipt
from db.errors import ClaimNotFoundError
from db.uow import UnitOfWork
from domain.adjudication import ProcessorStatus


class SubmitClaimInput(BaseModel):
    claim_id: str
    idempotency_key: str


class PollStatusInput(BaseModel):
    claim_id: str
    payer_claim_id: str


class IssuePaymentInput(BaseModel):
    claim_id: str
    payer_claim_id: str
    lines: list[tuple[int, Decimal]]
    idempotency_key: str


class IssuePaymentResult(BaseModel):
    payment_id: str
    amount: Decimal


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

    @activity.defn(name="submit_claim")
    async def submit_claim(self, input: SubmitClaimInput) -> SubmissionReceipt:
        async with UnitOfWork(self._sessions) as uow:
            try:
                claim = await uow.claims.load_claim(input.claim_id)
            except ClaimNotFoundError as exc:
                raise permanent(str(exc), CLAIM_NOT_FOUND) from exc
        try:
            receipt = await self._client.submit(
                input.claim_id,
                claim,
                idempotency_key=input.idempotency_key,
                callback_url=f"{self._callback_base}/{input.claim_id}" if self._callback_base else None,
            )
        except ProcessorRefusedError as exc:
            raise permanent(str(exc), PROCESSOR_REFUSED) from exc
        activity.logger.info(
            "claim.submitted",
            extra={
                "claim_id": input.claim_id,
                "payer_claim_id": receipt.payer_claim_id,
                "category": receipt.category.value,
            },
        )
        return receipt

    @activity.defn(name="poll_claim_status")
    async def poll_claim_status(self, input: PollStatusInput) -> ProcessorStatus:
        try:
            return await self._client.status(input.payer_claim_id)
        except ProcessorRefusedError as exc:
            raise permanent(str(exc), PROCESSOR_REFUSED) from exc

    @activity.defn(name="issue_payment")
    async def issue_payment(self, input: IssuePaymentInput) -> IssuePaymentResult:
        try:
            receipt = await self._client.pay(
                input.claim_id, input.payer_claim_id, input.lines, idempotency_key=input.idempotency_key
            )
        except ProcessorRefusedError as exc:
            raise permanent(str(exc), PROCESSOR_REFUSED) from exc
        activity.logger.info(
            "claim.paid",
            extra={"claim_id": input.claim_id, "payment_id": receipt.payment_id, "amount": str(receipt.amount)},
        )
        return IssuePaymentResult(payment_id=receipt.payment_id, amount=receipt.amount)
