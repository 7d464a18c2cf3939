"""The hot writes (intake, status change, payment, adjudication): what each writes, once, in one statement."""

from __future__ import annotations

import asyncio
from datetime import datetime
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.base import utcnow
from db.errors import ClaimNotFoundError
from db.models import AuditLog, ClaimLineAdjudication, ClaimRegister, ClaimStatusHistory, Payment
from db.uow import UnitOfWork
from domain.adjudication import Adjustment, GroupCode, LineAdjudication
from domain.status import ClaimStatus
from tests.db.helpers import T0, at, new_claim_id, record, statements_run, take_in
from tests.domain.factories import make_claim

Sessions = async_sessionmaker[AsyncSession]
ERRORS_1 = [{"field": "lines[0].procedure_code", "rule": "procedure.unknown", "message": "unknown code"}]
ERRORS_2 = [{"field": "diagnosis_codes[0]", "rule": "diagnosis.unknown", "message": "unknown code"}]


async def in_review_with_every_optional_field(session_factory: Sessions) -> str:
    """A claim whose status change 1 (in review) brought an adjuster, a payer claim id and validation errors."""
    claim_id = (await take_in(session_factory)).claim_id
    await record(
        session_factory,
        claim_id,
        1,
        ClaimStatus.IN_REVIEW,
        assigned_adjuster="bob",
        payer_claim_id="P-1",
        validation_errors=ERRORS_1,
    )
    return claim_id


async def register(session_factory: Sessions, claim_id: str) -> Any:
    """The register row as stored (status_seq and updated_at included)."""
    async with session_factory() as session:
        return (await session.execute(select(ClaimRegister.__table__).where(ClaimRegister.claim_id == claim_id))).one()


async def history(session_factory: Sessions, claim_id: str) -> list[Any]:
    async with session_factory() as session:
        table = ClaimStatusHistory.__table__
        query = select(table).where(ClaimStatusHistory.claim_id == claim_id).order_by(ClaimStatusHistory.seq)
        return list((await session.execute(query)).all())


async def audit(session_factory: Sessions, claim_id: str) -> list[Any]:
    async with session_factory() as session:
        query = select(AuditLog.__table__).where(AuditLog.claim_id == claim_id).order_by(AuditLog.id)
        return list((await session.execute(query)).all())


async def count(session_factory: Sessions, model: type[object]) -> int:
    async with session_factory() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


def assert_now(value: datetime, since: datetime) -> None:
    """`value` was set by the write (what the model's Python-side default would have set)."""
    assert since <= value <= utcnow()


class TestRecordStatus:
    async def test_the_first_record_writes_history_and_audit_and_moves_the_register(self, session_factory):
        claim_id = (await take_in(session_factory)).claim_id
        before = utcnow()

        assert await record(
            session_factory, claim_id, 1, ClaimStatus.INVALID, assigned_adjuster="alice", validation_errors=ERRORS_1
        )

        row = await register(session_factory, claim_id)
        assert (row.status, row.status_seq, row.assigned_adjuster, row.validation_errors) == (
            "invalid",
            1,
            "alice",
            ERRORS_1,
        )
        assert row.payer_claim_id is None and row.created_at == T0
        assert_now(row.updated_at, before)
        changes = await history(session_factory, claim_id)
        assert [(h.seq, h.status, h.reason, h.at, h.actor) for h in changes] == [
            (0, "received", "received", T0, "org:org-1"),
            (1, "invalid", "to invalid", at(1), "workflow"),
        ]
        assert_now(changes[1].created_at, before)
        entries = await audit(session_factory, claim_id)
        assert [(a.action, a.event_key) for a in entries] == [
            ("claim.received", f"claim:{claim_id}:received"),
            ("claim.status_changed", f"claim:{claim_id}:status:1"),
        ]
        entry = entries[1]
        assert (entry.actor, entry.at, entry.details) == (
            "workflow",
            at(1),
            {"status": "invalid", "reason": "to invalid", "seq": 1},
        )
        assert_now(entry.created_at, before)

    async def test_a_repeated_seq_writes_nothing_and_returns_false(self, session_factory):
        claim_id = (await take_in(session_factory)).claim_id
        await record(session_factory, claim_id, 1, ClaimStatus.VALIDATING)
        first = await register(session_factory, claim_id)

        assert not await record(
            session_factory, claim_id, 1, ClaimStatus.INVALID, assigned_adjuster="bob", payer_claim_id="P-1"
        )

        assert await register(session_factory, claim_id) == first  # not even updated_at moved
        assert len(await history(session_factory, claim_id)) == 2
        assert len(await audit(session_factory, claim_id)) == 2

    async def test_a_late_seq_enters_history_and_audit_but_leaves_the_register_alone(self, session_factory):
        claim_id = (await take_in(session_factory)).claim_id
        await record(
            session_factory, claim_id, 3, ClaimStatus.IN_REVIEW, assigned_adjuster="bob", validation_errors=ERRORS_1
        )
        newest = await register(session_factory, claim_id)

        assert await record(
            session_factory, claim_id, 2, ClaimStatus.SUBMITTED, assigned_adjuster="alice", validation_errors=ERRORS_2
        )

        assert await register(session_factory, claim_id) == newest
        assert [h.seq for h in await history(session_factory, claim_id)] == [0, 2, 3]
        assert [a.details.get("seq") for a in await audit(session_factory, claim_id)] == [0, 3, 2]

    async def test_a_late_seq_fills_an_empty_payer_claim_id(self, session_factory):
        claim_id = (await take_in(session_factory)).claim_id
        await record(session_factory, claim_id, 4, ClaimStatus.PENDING, assigned_adjuster="bob")
        before = utcnow()

        assert await record(
            session_factory, claim_id, 3, ClaimStatus.SUBMITTED, payer_claim_id="P-9", assigned_adjuster="al"
        )

        row = await register(session_factory, claim_id)
        assert (row.status, row.status_seq, row.assigned_adjuster, row.payer_claim_id) == ("pending", 4, "bob", "P-9")
        assert_now(row.updated_at, before)

    async def test_a_late_seq_never_overwrites_a_payer_claim_id(self, session_factory):
        claim_id = (await take_in(session_factory)).claim_id
        await record(session_factory, claim_id, 4, ClaimStatus.PENDING, payer_claim_id="P-1")
        newest = await register(session_factory, claim_id)

        assert await record(session_factory, claim_id, 3, ClaimStatus.SUBMITTED, payer_claim_id="P-2")

        assert await register(session_factory, claim_id) == newest

    async def test_a_newer_change_keeps_the_optional_fields_it_does_not_bring(self, session_factory):
        claim_id = await in_review_with_every_optional_field(session_factory)

        assert await record(session_factory, claim_id, 2, ClaimStatus.INFO_REQUESTED)

        row = await register(session_factory, claim_id)
        assert (row.status, row.status_seq) == ("info_requested", 2)
        assert (row.assigned_adjuster, row.payer_claim_id, row.validation_errors) == ("bob", "P-1", ERRORS_1)

    async def test_a_newer_change_sets_the_optional_fields_it_brings(self, session_factory):
        # as before the one-statement write: a newer change's payer claim id replaces the stored one
        claim_id = await in_review_with_every_optional_field(session_factory)

        assert await record(
            session_factory,
            claim_id,
            2,
            ClaimStatus.IN_REVIEW,
            assigned_adjuster="alice",
            payer_claim_id="P-2",
            validation_errors=[],
        )

        row = await register(session_factory, claim_id)
        assert (row.assigned_adjuster, row.payer_claim_id, row.validation_errors) == ("alice", "P-2", [])

    async def test_a_missing_claim_raises_and_leaves_nothing(self, session_factory):
        missing = new_claim_id()
        async with UnitOfWork(session_factory) as uow:
            with pytest.raises(ClaimNotFoundError, match=missing):
                await uow.claims.record_status(
                    claim_id=missing, seq=1, status=ClaimStatus.VALIDATING, reason="r", at=at(1), actor="w"
                )

        assert await history(session_factory, missing) == []
        assert await audit(session_factory, missing) == []
        assert await count(session_factory, ClaimStatusHistory) == 0 and await count(session_factory, AuditLog) == 0

    async def test_concurrent_records_of_one_seq_write_it_once(self, session_factory):
        claim_id = (await take_in(session_factory)).claim_id

        results = await asyncio.gather(
            *(record(session_factory, claim_id, 1, ClaimStatus.VALIDATING) for _ in range(3))
        )

        assert sorted(results) == [False, False, True]
        assert len(await history(session_factory, claim_id)) == 2 and len(await audit(session_factory, claim_id)) == 2


class TestIntake:
    async def test_intake_writes_the_register_row_history_row_and_audit_row(self, session_factory):
        claim = make_claim()
        claim_id = new_claim_id()
        before = utcnow()

        result = await take_in(session_factory, claim=claim, claim_id=claim_id, key="k-1", request_hash="h-1")

        assert result.created and result.claim_id == claim_id
        row = await register(session_factory, claim_id)
        assert (row.org_id, row.idempotency_key, row.request_hash, row.status, row.status_seq) == (
            "org-1",
            "k-1",
            "h-1",
            "received",
            0,
        )
        assert (row.patient_control_number, row.payer_id, row.total_charge) == (
            claim.patient_control_number,
            claim.insurance.payer_id,
            claim.total_charge,
        )
        assert row.document == claim.model_dump(mode="json") and row.validation_errors == []
        assert (row.assigned_adjuster, row.payer_claim_id, row.created_at, row.updated_at) == (None, None, T0, T0)
        [change] = await history(session_factory, claim_id)
        assert (change.seq, change.status, change.reason, change.at, change.actor) == (
            0,
            "received",
            "received",
            T0,
            "org:org-1",
        )
        assert_now(change.created_at, before)
        [entry] = await audit(session_factory, claim_id)
        assert (entry.event_key, entry.actor, entry.action, entry.at, entry.details) == (
            f"claim:{claim_id}:received",
            "org:org-1",
            "claim.received",
            T0,
            {"status": "received", "seq": 0, "payer_id": claim.insurance.payer_id},
        )
        assert_now(entry.created_at, before)

    @pytest.mark.parametrize("same", ["key", "claim_id"])
    async def test_intake_twice_writes_one_claim_one_history_row_and_one_audit_row(self, session_factory, same):
        claim_id = new_claim_id()
        first = await take_in(session_factory, claim_id=claim_id, key="k-1", request_hash="h-1")

        again = await take_in(
            session_factory,
            claim_id=new_claim_id() if same == "key" else claim_id,
            key="k-1" if same == "key" else "k-2",
            request_hash="h-2",
            received_at=at(5),
        )

        assert (again.claim_id, again.created, again.request_hash) == (first.claim_id, False, "h-1")
        assert await count(session_factory, ClaimRegister) == 1
        assert await count(session_factory, ClaimStatusHistory) == 1
        assert await count(session_factory, AuditLog) == 1
        assert (await register(session_factory, claim_id)).created_at == T0


class TestRecordPayment:
    async def test_a_claim_is_paid_once(self, session_factory):
        claim_id = (await take_in(session_factory)).claim_id
        before = utcnow()

        async with UnitOfWork(session_factory) as uow:
            paid = [
                await uow.claims.record_payment(claim_id=claim_id, payment_id=pid, amount=amount, paid_at=at(10))
                for pid, amount in (("pay-1", Decimal("45.00")), ("pay-1", Decimal("45.00")), ("pay-2", Decimal("9")))
            ]
            await uow.commit()

        assert paid == [True, False, False]
        async with session_factory() as session:
            [payment] = (await session.execute(select(Payment.__table__))).all()
        assert (payment.payment_id, payment.claim_id, payment.amount, payment.paid_at) == (
            "pay-1",
            claim_id,
            Decimal("45.00"),
            at(10),
        )
        assert_now(payment.created_at, before)


class TestRecordAdjudication:
    async def test_each_line_is_written_then_replaced_by_a_later_adjudication(self, session_factory):
        claim_id = (await take_in(session_factory)).claim_id
        denied = LineAdjudication(
            line_number=1,
            billed=Decimal("45.00"),
            allowed=Decimal("0.00"),
            paid=Decimal("0.00"),
            adjustments=[Adjustment(group_code=GroupCode.CONTRACTUAL, reason_code="50", amount=Decimal("45.00"))],
            remark_codes=["N130"],
        )
        second = LineAdjudication(
            line_number=2, billed=Decimal("10.00"), allowed=Decimal("10.00"), paid=Decimal("10.00")
        )
        approved = LineAdjudication(
            line_number=1, billed=Decimal("45.00"), allowed=Decimal("45.00"), paid=Decimal("45.00")
        )

        async with UnitOfWork(session_factory) as uow:
            await uow.claims.record_adjudication(
                claim_id=claim_id, lines=[denied, second], source="processor", at=at(5)
            )
            await uow.commit()
        first = await lines(session_factory, claim_id)
        async with UnitOfWork(session_factory) as uow:
            await uow.claims.record_adjudication(claim_id=claim_id, lines=[approved], source="adjuster", at=at(9))
            await uow.commit()
        later = await lines(session_factory, claim_id)

        assert [(row.line_number, row.paid, row.source, row.adjudicated_at) for row in first] == [
            (1, Decimal("0.00"), "processor", at(5)),
            (2, Decimal("10.00"), "processor", at(5)),
        ]
        assert first[0].adjustments == [{"group_code": "CO", "reason_code": "50", "amount": "45.00"}]
        assert first[0].remark_codes == ["N130"]
        assert [(row.line_number, row.paid, row.source, row.adjudicated_at) for row in later] == [
            (1, Decimal("45.00"), "adjuster", at(9)),
            (2, Decimal("10.00"), "processor", at(5)),
        ]
        assert later[0].adjustments == [] and later[0].remark_codes == []
        assert later[0].created_at == first[0].created_at  # replaced in place, not a new row
        assert later[0].updated_at >= first[0].updated_at


async def lines(session_factory: Sessions, claim_id: str) -> list[Any]:
    async with session_factory() as session:
        table = ClaimLineAdjudication.__table__
        query = select(table).where(table.c.claim_id == claim_id).order_by(table.c.line_number)
        return list((await session.execute(query)).all())


async def test_intake_and_a_status_record_with_a_note_are_one_statement_each(session_factory):
    claim_id = new_claim_id()
    async with UnitOfWork(session_factory) as uow:
        await uow.session.execute(text("SELECT 1"))  # the transaction has begun: BEGIN is not counted
        with statements_run(session_factory) as intake:
            await uow.claims.intake(
                claim_id=claim_id,
                org_id="org-1",
                idempotency_key=None,
                request_hash="h",
                claim=make_claim(),
                received_at=T0,
            )
        note_id = await uow.claims.add_note(claim_id=claim_id, kind="cancellation", body="b", author="a", at=at(1))
        with statements_run(session_factory) as status:
            await uow.claims.record_status(
                claim_id=claim_id, seq=1, status=ClaimStatus.CANCELLED, reason="r", at=at(1), actor="w", note_id=note_id
            )
        with statements_run(session_factory) as repeat:
            await uow.claims.record_status(
                claim_id=claim_id, seq=1, status=ClaimStatus.CANCELLED, reason="r", at=at(1), actor="w", note_id=note_id
            )
        await uow.commit()

    assert (len(intake), len(status), len(repeat)) == (1, 1, 1)
    assert len(await history(session_factory, claim_id)) == 2 and len(await audit(session_factory, claim_id)) == 2
    assert (await history(session_factory, claim_id))[1].note_id == note_id
