"""The ledger in PostgreSQL: append-only for every role, posted once per answer, written by the status activity."""

from __future__ import annotations

import asyncio
from decimal import Decimal

import psycopg
import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from activities.claim_records import ClaimRecordActivities
from activities.contracts import RecordStatusChangesInput, StatusDetails, StatusRecord
from db.uow import UnitOfWork
from domain.adjudication import Adjustment, GroupCode, LineAdjudication
from domain.ledger import LedgerKind, LedgerSource, PaymentAnswer, ProviderAdjustment, totals
from domain.status import ClaimStatus
from tests.db.helpers import at, take_in
from tests.db.test_audit_chain import as_owner

D = Decimal
CO45 = Adjustment(group_code=GroupCode.CONTRACTUAL, reason_code="45", amount=D("9.00"))


def partial(remittance_id: str, *, reversal: bool = False) -> PaymentAnswer:
    return PaymentAnswer(
        remittance_id=remittance_id,
        source=LedgerSource.REMITTANCE,
        at=at(5),
        payer_claim_id="PCN1",
        reversal=reversal,
        lines=[
            LineAdjudication(
                line_number=1,
                billed=D("45.00"),
                allowed=D("36.00"),
                paid=D("36.00"),
                adjustments=[CO45],
                remark_codes=["N130"],
            )
        ],
    )


async def post(session_factory, claim_id: str, answer: PaymentAnswer) -> int:
    async with UnitOfWork(session_factory) as uow:
        written = await uow.ledger.post(claim_id, answer)
        await uow.commit()
    return len(written)


async def ledger(session_factory, claim_id: str):
    async with UnitOfWork(session_factory) as uow:
        return await uow.ledger.entries(claim_id)


async def test_an_answer_posts_once_and_reads_back_as_posted(session_factory):
    claim_id = (await take_in(session_factory)).claim_id

    assert await post(session_factory, claim_id, partial("835:T1:PCN1:1")) == 1
    assert await post(session_factory, claim_id, partial("835:T1:PCN1:1")) == 0

    (entry,) = await ledger(session_factory, claim_id)
    assert (entry.kind, entry.line_number, entry.paid, entry.adjustments, entry.remark_codes) == (
        LedgerKind.ADJUDICATION,
        1,
        D("36.00"),
        [CO45],
        ["N130"],
    )
    assert entry.at == at(5)


async def test_the_same_answer_posted_concurrently_is_written_once(session_factory):
    claim_id = (await take_in(session_factory)).claim_id
    counts = await asyncio.gather(*(post(session_factory, claim_id, partial("835:T1:PCN1:1")) for _ in range(4)))
    assert sorted(counts) == [0, 0, 0, 1]
    assert len(await ledger(session_factory, claim_id)) == 1


async def test_a_reversal_before_its_original_leaves_a_zero_ledger(session_factory):
    claim_id = (await take_in(session_factory)).claim_id
    await post(session_factory, claim_id, partial("835:T2:PCN1:22", reversal=True))
    await post(session_factory, claim_id, partial("835:T1:PCN1:1"))
    entries = await ledger(session_factory, claim_id)
    assert [e.kind for e in entries] == [LedgerKind.REVERSAL, LedgerKind.ADJUDICATION]
    assert totals(entries).paid == 0 and totals(entries).adjustments == []


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE claim_ledger_entry SET paid = 0",
        "DELETE FROM claim_ledger_entry",
        "TRUNCATE claim_ledger_entry",
        "UPDATE provider_adjustment SET amount = 0",
        "DELETE FROM provider_adjustment",
        "TRUNCATE provider_adjustment",
    ],
)
async def test_the_app_role_may_only_append_to_the_ledger(session_factory, statement):
    claim_id = (await take_in(session_factory)).claim_id
    await post(session_factory, claim_id, partial("835:T1:PCN1:1"))

    async with UnitOfWork(session_factory) as uow:
        with pytest.raises(DBAPIError, match=r"permission denied"):
            await uow.session.execute(text(statement))

    assert len(await ledger(session_factory, claim_id)) == 1


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE claim_ledger_entry SET paid = 0",
        "DELETE FROM claim_ledger_entry",
        "TRUNCATE claim_ledger_entry CASCADE",
        "UPDATE provider_adjustment SET amount = 0",
        "DELETE FROM provider_adjustment",
        "TRUNCATE provider_adjustment",
    ],
)
async def test_the_owner_too_is_refused_by_the_append_only_triggers(session_factory, db_url, statement):
    claim_id = (await take_in(session_factory)).claim_id
    await post(session_factory, claim_id, partial("835:T1:PCN1:1"))
    async with UnitOfWork(session_factory) as uow:
        plb = ProviderAdjustment(
            remittance_id="835:T1", position=1, provider_id="1234567893", reason_code="L6", amount=D("-2.50")
        )
        assert await uow.ledger.record_provider_adjustments([plb]) == 1
        await uow.commit()

    with as_owner(db_url) as owner, pytest.raises(psycopg.errors.RestrictViolation, match="is append-only"):
        owner.execute(statement)

    assert [e.paid for e in await ledger(session_factory, claim_id)] == [D("36.00")]


async def test_provider_adjustments_are_kept_apart_once_per_remittance_position(session_factory):
    plb = [
        ProviderAdjustment(
            remittance_id="835:T1",
            position=1,
            provider_id="1234567893",
            reason_code="L6",
            reference="X",
            amount=D("-2.50"),
        ),
        ProviderAdjustment(
            remittance_id="835:T1", position=2, provider_id="1234567893", reason_code="WO", amount=D("10.00")
        ),
    ]
    async with UnitOfWork(session_factory) as uow:
        assert await uow.ledger.record_provider_adjustments(plb) == 2
        assert await uow.ledger.record_provider_adjustments(plb) == 0
        await uow.commit()
    async with UnitOfWork(session_factory) as uow:
        assert await uow.ledger.provider_adjustments("835:T1") == plb


def change(
    claim_id: str, seq: int, status: ClaimStatus, lines: list[LineAdjudication], *, adjuster: bool
) -> StatusRecord:
    return StatusRecord(
        claim_id=claim_id,
        seq=seq,
        status=status,
        reason="test",
        at=at(seq),
        actor="alice" if adjuster else "workflow",
        details=StatusDetails(adjudication=lines, adjudicated_by_adjuster=adjuster),
    )


async def test_the_status_activity_posts_each_adjudication_once_and_a_decision_corrects_the_processors(
    session_factory,
):
    claim_id = (await take_in(session_factory)).claim_id
    activities = ClaimRecordActivities(session_factory)
    processor = partial("x").lines
    approved = [LineAdjudication(line_number=1, billed=D("45.00"), allowed=D("45.00"), paid=D("45.00"))]
    review = RecordStatusChangesInput(changes=[change(claim_id, 1, ClaimStatus.IN_REVIEW, processor, adjuster=False)])
    decision = RecordStatusChangesInput(changes=[change(claim_id, 2, ClaimStatus.APPROVED, approved, adjuster=True)])

    for _ in range(2):  # a retried activity
        await activities.record_status_changes(review)
    assert [(e.kind, e.source, e.paid) for e in await ledger(session_factory, claim_id)] == [
        (LedgerKind.ADJUDICATION, LedgerSource.PROCESSOR, D("36.00"))
    ]
    for _ in range(2):
        await activities.record_status_changes(decision)

    entries = await ledger(session_factory, claim_id)
    assert [(e.kind, e.source, e.paid) for e in entries] == [
        (LedgerKind.ADJUDICATION, LedgerSource.PROCESSOR, D("36.00")),
        (LedgerKind.REVERSAL, LedgerSource.ADJUSTER, D("-36.00")),
        (LedgerKind.CORRECTION, LedgerSource.ADJUSTER, D("45.00")),
    ]
    assert (totals(entries).paid, totals(entries).adjustments) == (D("45.00"), [])
