"""Activities that read and write the claim's system of record: validation, snapshot, status, payment."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from pydantic import BaseModel, ConfigDict
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio import activity

from activities.claim_checks import check_claim
from activities.errors import CLAIM_NOT_FOUND, permanent
from db.code_sets import CodeSetCache
from db.errors import ClaimNotFoundError
from db.uow import UnitOfWork
from domain.adjudication import LineAdjudication
from domain.decision import BilledLine
from domain.status import ClaimStatus
from domain.validation import ValidationIssue


class ClaimFacts(BaseModel):
    """What the workflow keeps of a claim: amounts and line numbers, never patient data."""

    model_config = ConfigDict(frozen=True)

    payer_id: str
    total_charge: Decimal
    lines: list[BilledLine]


class ValidateClaimResult(BaseModel):
    valid: bool
    errors: list[ValidationIssue]
    warnings: list[ValidationIssue]
    facts: ClaimFacts


class SnapshotClaimInput(BaseModel):
    claim_id: str
    version: int = 1
    taken_at: datetime


class SnapshotClaimResult(BaseModel):
    created: bool


class RecordPaymentInput(BaseModel):
    claim_id: str
    payment_id: str
    amount: Decimal
    paid_at: datetime


class RecordStatusInput(BaseModel):
    claim_id: str
    seq: int
    status: ClaimStatus
    reason: str
    at: datetime
    actor: str
    assigned_adjuster: str | None = None
    payer_claim_id: str | None = None
    validation_errors: list[ValidationIssue] | None = None
    adjudication: list[LineAdjudication] | None = None
    adjudication_source: str | None = None
    payment: RecordPaymentInput | None = None


class RecordStatusResult(BaseModel):
    recorded: bool


class ValidateClaimInput(BaseModel):
    claim_id: str
    today: date
    #: Status changes to write in the same transaction (the workflow's "validating").
    records: list[RecordStatusInput] = []
    #: When set, a valid claim's snapshot is written in the same transaction, taken at this time.
    snapshot_at: datetime | None = None


class RecordStatusChangesInput(BaseModel):
    """Status changes in the order they happened, written in one transaction."""

    changes: list[RecordStatusInput]


class ClaimRecordActivities:
    """Database-backed activities; every one is idempotent and safe to retry."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], codes: CodeSetCache | None = None) -> None:
        self._sessions = sessions
        self._codes = codes or CodeSetCache()

    @activity.defn(name="validate_claim")
    async def validate_claim(self, input: ValidateClaimInput) -> ValidateClaimResult:
        """Run every edit, including the database-backed duplicate check; with `records` and `snapshot_at`,
        write those status changes and a valid claim's snapshot in the same transaction."""
        async with UnitOfWork(self._sessions) as uow:
            try:
                for record in input.records:
                    await _write_status(uow, record)
                claim = await uow.claims.load_claim(input.claim_id)
                report = await check_claim(
                    uow, claim, claim_id=input.claim_id, today=input.today, codes=await self._codes.get(uow)
                )
                if report.valid and input.snapshot_at is not None:
                    await uow.claims.write_snapshot(
                        claim_id=input.claim_id, version=1, claim=claim, taken_at=input.snapshot_at
                    )
            except ClaimNotFoundError as exc:
                raise permanent(str(exc), CLAIM_NOT_FOUND) from exc
            if input.records or input.snapshot_at is not None:
                await uow.commit()
        facts = ClaimFacts(
            payer_id=claim.insurance.payer_id,
            total_charge=claim.total_charge,
            lines=[BilledLine(line_number=n, charge=line.charge) for n, line in enumerate(claim.lines, start=1)],
        )
        return ValidateClaimResult(valid=report.valid, errors=report.errors, warnings=report.warnings, facts=facts)

    @activity.defn(name="snapshot_claim")
    async def snapshot_claim(self, input: SnapshotClaimInput) -> SnapshotClaimResult:
        """Copy the claim into the snapshot tables in one transaction; a repeat writes nothing.
        (Claims that started before the `batched-records` patch; later ones snapshot in validate_claim.)"""
        async with UnitOfWork(self._sessions) as uow:
            try:
                claim = await uow.claims.load_claim(input.claim_id)
            except ClaimNotFoundError as exc:
                raise permanent(str(exc), CLAIM_NOT_FOUND) from exc
            created = await uow.claims.write_snapshot(
                claim_id=input.claim_id, version=input.version, claim=claim, taken_at=input.taken_at
            )
            await uow.commit()
        return SnapshotClaimResult(created=created)

    @activity.defn(name="record_status_changes")
    async def record_status_changes(self, input: RecordStatusChangesInput) -> RecordStatusResult:
        """Write each change's status-history row, audit row and the register's current status, all in one
        transaction; `recorded` is False when every one of them had been recorded before."""
        async with UnitOfWork(self._sessions) as uow:
            recorded = [await _write_status(uow, record) for record in input.changes]
            await uow.commit()
        return RecordStatusResult(recorded=any(recorded))

    @activity.defn(name="record_status")
    async def record_status(self, input: RecordStatusInput) -> RecordStatusResult:
        """One status change (claims that started before the `batched-records` patch)."""
        async with UnitOfWork(self._sessions) as uow:
            recorded = await _write_status(uow, input)
            await uow.commit()
        return RecordStatusResult(recorded=recorded)


async def _write_status(uow: UnitOfWork, input: RecordStatusInput) -> bool:
    """The status-history row, the audit row, the register's current status, adjudication and payment."""
    if input.adjudication:
        await uow.claims.record_adjudication(
            claim_id=input.claim_id,
            lines=input.adjudication,
            source=input.adjudication_source or "processor",
            at=input.at,
        )
    recorded = await uow.claims.record_status(
        claim_id=input.claim_id,
        seq=input.seq,
        status=input.status,
        reason=input.reason,
        at=input.at,
        actor=input.actor,
        assigned_adjuster=input.assigned_adjuster,
        payer_claim_id=input.payer_claim_id,
        validation_errors=(
            [issue.model_dump(mode="json") for issue in input.validation_errors]
            if input.validation_errors is not None
            else None
        ),
    )
    if input.payment is not None:
        await uow.claims.record_payment(
            claim_id=input.claim_id,
            payment_id=input.payment.payment_id,
            amount=input.payment.amount,
            paid_at=input.payment.paid_at,
        )
    return recorded
