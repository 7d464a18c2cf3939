"""The ledger in PostgreSQL: append-only for every role, posted once per answer, written by the status activity; an
835 posted with its claim-level adjustments and its PLB, which the claim's record shows."""

from __future__ import annotations

import asyncio
from decimal import Decimal
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from activities.claim_records import ClaimRecordActivities
from activities.contracts import RecordStatusChangesInput, StatusDetails, StatusRecord
from activities.x12.parse_835 import parse_835
from activities.x12.remittance_answer import posting
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


SAMPLE_835 = Path(__file__).parents[1] / "activities" / "x12_samples" / "835.x12"


async def post_sample(session_factory, claims: dict[str, str]) -> int:
    """Post the sample 835's payments of each payer claim id to its claim (and its PLB); how many entries were new."""
    [remittance] = parse_835(SAMPLE_835.read_text())
    read = posting(remittance, {"PAYERCLM0011": {"L1": 1, "L2": 2}}, at=at(5))
    written = 0
    async with UnitOfWork(session_factory) as uow:
        for payer_claim_id, claim_id in claims.items():
            answers = [c.answer for c in read.claims if c.payer_claim_id == payer_claim_id]
            written += len(await uow.ledger.post_remittance(claim_id, answers, read.provider_adjustments))
        await uow.commit()
    return written


async def test_the_sample_835_posts_claim_level_cas_and_its_plb_once_and_the_claim_read_shows_the_plb(
    session_factory,
):
    partly, denied, other = [(await take_in(session_factory)).claim_id for _ in range(3)]
    claims = {"PAYERCLM0011": partly, "PAYERCLM0012": denied}

    assert await post_sample(session_factory, claims) == 3  # two lines, and the denial's claim-level entry
    assert await post_sample(session_factory, claims) == 0  # the same 835 redelivered

    [entry] = await ledger(session_factory, denied)
    assert (entry.line_number, entry.source, entry.billed, entry.paid) == (None, LedgerSource.REMITTANCE, D(60), D(0))
    assert totals([entry]).adjustments == [Adjustment(group_code=GroupCode.CONTRACTUAL, reason_code="50", amount=D(60))]
    async with UnitOfWork(session_factory) as uow:
        records = [await uow.claims.get_record(claim_id) for claim_id in (partly, denied, other)]
        assert await uow.ledger.provider_adjustments("835:1512345678:EFT0000012345") == records[0].provider_adjustments
    plb = [(p.position, p.reason_code, p.reference, p.amount) for p in records[0].provider_adjustments]
    assert plb == [(1, "L6", "LAB-000131", D("-2.50")), (2, "WO", "PAYERCLM0000", D("10.00"))]
    assert records[1].provider_adjustments == records[0].provider_adjustments
    assert records[2].provider_adjustments == []  # paid by no remittance


async def test_the_processors_status_answer_restating_a_posted_835_posts_nothing_and_an_adjuster_still_corrects(
    session_factory,
):
    claim_id = (await take_in(session_factory)).claim_id
    await post_sample(session_factory, {"PAYERCLM0011": claim_id})
    posted = await ledger(session_factory, claim_id)
    restated = [LineAdjudication.model_validate(e.model_dump()) for e in posted]
    activities = ClaimRecordActivities(session_factory)

    review = change(claim_id, 1, ClaimStatus.IN_REVIEW, restated, adjuster=False)
    await activities.record_status_changes(RecordStatusChangesInput(changes=[review]))
    assert await ledger(session_factory, claim_id) == posted

    other = [restated[0], restated[1].model_copy(update={"paid": D("1.00")})]  # not what the 835 said
    approved = change(claim_id, 2, ClaimStatus.APPROVED, other, adjuster=True)
    await activities.record_status_changes(RecordStatusChangesInput(changes=[approved]))
    entries = await ledger(session_factory, claim_id)
    assert [(e.kind, e.source) for e in entries[len(posted) :]] == [
        (LedgerKind.REVERSAL, LedgerSource.ADJUSTER),
        (LedgerKind.REVERSAL, LedgerSource.ADJUSTER),
        (LedgerKind.CORRECTION, LedgerSource.ADJUSTER),
        (LedgerKind.CORRECTION, LedgerSource.ADJUSTER),
    ]
    assert totals(entries).paid == D("71.00")
