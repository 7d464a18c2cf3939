"""Activities that read and write the claim's system of record: validation with the snapshot, status changes."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio import activity

from activities.contracts import (
    CLAIM_NOT_FOUND,
    MARK_ORIGINAL,
    RECORD_STATUS_CHANGES,
    VALIDATE_AND_SNAPSHOT,
    ClaimFacts,
    MarkOriginalInput,
    MarkOriginalResult,
    RecordStatusChangesInput,
    RecordStatusChangesResult,
    StatusRecord,
    ValidateAndSnapshotInput,
    ValidateAndSnapshotResult,
    business_failure,
)
from db.claim_checks import check_claim
from db.code_sets import CodeSetCache
from db.errors import ClaimNotFoundError
from db.uow import UnitOfWork
from domain.decision import BilledLine
from domain.ledger import LedgerSource, PaymentAnswer
from domain.lineage import void_reversal
from domain.status import ClaimStatus, can_move

#: Who records an original's replaced or voided status: the engine, on the payer's acceptance.
LINEAGE_ACTOR = "claimflow"


class ClaimRecordActivities:
    """Database-backed activities; every one is idempotent and safe to retry."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], codes: CodeSetCache | None = None) -> None:
        self._sessions = sessions
        self._codes = codes or CodeSetCache()

    @activity.defn(name=VALIDATE_AND_SNAPSHOT.name)
    async def validate_and_snapshot_claim(self, input: ValidateAndSnapshotInput) -> ValidateAndSnapshotResult:
        """In one transaction: write the status changes that came before (the claim's "validating"), run every
        edit (the duplicate check reads the database), and snapshot the claim if it is valid. A retry writes
        nothing twice."""
        async with UnitOfWork(self._sessions) as uow:
            try:
                for record in input.records:
                    await _write_status(uow, record)
                claim = await uow.claims.load_claim(input.claim_id)
                original = await uow.claims.original_of(input.claim_id)
                report = await check_claim(
                    uow,
                    claim,
                    claim_id=input.claim_id,
                    org_id=input.org_id,
                    today=input.today,
                    codes=await self._codes.get(uow),
                )
                if report.valid:
                    await uow.claims.write_snapshot(
                        claim_id=input.claim_id, version=1, claim=claim, taken_at=input.snapshot_at
                    )
            except ClaimNotFoundError as exc:
                raise business_failure(CLAIM_NOT_FOUND, str(exc)) from exc
            await uow.commit()
        facts = ClaimFacts(
            payer_id=claim.insurance.payer_id,
            total_charge=claim.total_charge,
            lines=[BilledLine(line_number=n, charge=line.charge) for n, line in enumerate(claim.lines, start=1)],
            frequency_code=claim.frequency_code,
            original_claim_id=original.claim_id if original else None,
        )
        return ValidateAndSnapshotResult(
            valid=report.valid,
            errors=[issue.finding() for issue in report.errors],
            warnings=[issue.finding() for issue in report.warnings],
            facts=facts,
        )

    @activity.defn(name=RECORD_STATUS_CHANGES.name)
    async def record_status_changes(self, input: RecordStatusChangesInput) -> RecordStatusChangesResult:
        """Write each change's status-history row, audit row and the register's current status, all in one
        transaction; `recorded` is False when every one of them had been recorded before."""
        async with UnitOfWork(self._sessions) as uow:
            recorded = [await _write_status(uow, record) for record in input.changes]
            await uow.commit()
        return RecordStatusChangesResult(recorded=any(recorded))

    @activity.defn(name=MARK_ORIGINAL.name)
    async def mark_original_claim(self, input: MarkOriginalInput) -> MarkOriginalResult:
        """The payer accepted a replacement or void: in one transaction, the original's status-history row, audit
        row and register status (replaced or voided), and for a void the reversal of what stands in the original's
        ledger. The original's own workflow has ended (only a closed or denied claim is corrected), so this claim's
        workflow records it; a retry writes nothing twice."""
        async with UnitOfWork(self._sessions) as uow:
            original = await uow.claims.original_of(input.claim_id)
            if original is None:
                raise business_failure(CLAIM_NOT_FOUND, f"claim {input.claim_id} names no original claim")
            recorded = False
            if original.status is not input.outcome:
                if not can_move(original.status, input.outcome):
                    raise business_failure(
                        "original_not_correctable",
                        f"the original claim {original.claim_id} is {original.status.value}; it cannot become "
                        f"{input.outcome.value}",
                    )
                frequency = "7" if input.outcome is ClaimStatus.REPLACED else "8"
                record = StatusRecord(
                    claim_id=original.claim_id,
                    seq=original.status_seq + 1,
                    status=input.outcome,
                    reason=f"{input.outcome.value} by claim {input.claim_id} (frequency {frequency}), accepted by "
                    "the payer",
                    at=input.at,
                    actor=LINEAGE_ACTOR,
                )
                recorded = await _write_status(uow, record)
            if input.outcome is ClaimStatus.VOIDED and original.payer_claim_id:
                reversal = void_reversal(input.claim_id, original.payer_claim_id, input.at)
                await uow.ledger.post(original.claim_id, reversal)
            note_id = await uow.claims.note_of(input.claim_id, "void") if input.outcome is ClaimStatus.VOIDED else None
            await uow.commit()
        return MarkOriginalResult(recorded=recorded, note_id=note_id)


async def _write_status(uow: UnitOfWork, record: StatusRecord) -> bool:
    """The status-history row, the audit row, the register's current status, adjudication and payment."""
    details = record.details
    if details.adjudication:
        source = LedgerSource.ADJUSTER if details.adjudicated_by_adjuster else LedgerSource.PROCESSOR
        await uow.claims.record_adjudication(
            claim_id=record.claim_id, lines=details.adjudication, source=source.value, at=record.at
        )
        # The answer states the claim's whole adjudication: it reverses what stands and posts itself, once per
        # status change (its seq is the posting's key, so a retried activity posts nothing twice).
        answer = PaymentAnswer(
            remittance_id=f"status:{record.seq}",
            source=source,
            at=record.at,
            payer_claim_id=details.payer_claim_id or "",
            replaces_standing=True,
            lines=details.adjudication,
        )
        await uow.ledger.post(record.claim_id, answer)
    recorded = await uow.claims.record_status(
        claim_id=record.claim_id,
        seq=record.seq,
        status=record.status,
        reason=record.reason,
        at=record.at,
        actor=record.actor,
        assigned_adjuster=details.assigned_adjuster,
        payer_claim_id=details.payer_claim_id,
        validation_errors=(
            [issue.model_dump(mode="json") for issue in details.validation_issues]
            if details.validation_issues is not None
            else None
        ),
        note_id=details.note_id,
        review_due_at=details.review_due_at,
        risk_score=details.risk_score,
    )
    if details.payment is not None:
        await uow.claims.record_payment(
            claim_id=record.claim_id,
            payment_id=details.payment.payment_id,
            amount=details.payment.amount,
            paid_at=details.payment.paid_at,
        )
    return recorded
