"""Taking claims in: race-safe, idempotent, and read back whole."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.errors import ClaimNotFoundError
from db.models import AuditLog, ClaimRegister
from db.records import IntakeResult
from db.uow import UnitOfWork
from domain.claim import Claim
from domain.status import ClaimStatus
from tests.db.helpers import T0, new_claim_id, take_in
from tests.domain.factories import make_claim


async def count(sessions: async_sessionmaker[AsyncSession], model: type[object]) -> int:
    async with sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


async def test_intake_creates_the_register_row_history_and_audit(session_factory):
    claim = make_claim()
    result = await take_in(session_factory, claim=claim, key="k-1", request_hash="h-1")

    assert result.created and result.request_hash == "h-1"
    async with UnitOfWork(session_factory) as uow:
        record = await uow.claims.get_record(result.claim_id)
        audit = await uow.audit.list_for_claim(result.claim_id)
    assert record is not None
    assert record.status is ClaimStatus.RECEIVED
    assert record.claim == claim
    assert record.total_charge == claim.total_charge
    assert record.payer_id == claim.insurance.payer_id
    assert record.created_at == T0 and record.created_at.tzinfo is not None
    assert [(h.seq, h.status) for h in record.status_history] == [(0, ClaimStatus.RECEIVED)]
    assert record.idempotency_key == "k-1" and record.request_hash == "h-1"
    assert record.snapshot_version is None and record.payment is None and record.adjudication == []
    assert [entry.action for entry in audit] == ["claim.received"]


async def test_intake_replay_with_the_same_key_returns_the_first_claim(session_factory):
    first = await take_in(session_factory, key="k-1", request_hash="h-1")
    replay = await take_in(session_factory, key="k-1", request_hash="h-2")

    assert replay == IntakeResult(claim_id=first.claim_id, created=False, request_hash="h-1")
    assert await count(session_factory, ClaimRegister) == 1
    assert await count(session_factory, AuditLog) == 1


async def test_intake_replay_with_the_same_claim_id_writes_nothing(session_factory):
    claim_id = new_claim_id()
    await take_in(session_factory, claim_id=claim_id, request_hash="h-1")
    replay = await take_in(session_factory, claim_id=claim_id, key="other", request_hash="h-2")

    assert replay == IntakeResult(claim_id=claim_id, created=False, request_hash="h-1")
    assert await count(session_factory, ClaimRegister) == 1


async def test_idempotency_keys_are_scoped_to_the_organisation(session_factory):
    one = await take_in(session_factory, org_id="org-1", key="same")
    other = await take_in(session_factory, org_id="org-2", key="same")

    assert one.created and other.created and one.claim_id != other.claim_id


async def test_concurrent_intakes_with_one_key_create_exactly_one_claim(session_factory):
    start = asyncio.Barrier(2)

    async def racer(claim: Claim) -> IntakeResult:
        async with UnitOfWork(session_factory) as uow:
            await start.wait()
            result = await uow.claims.intake(
                claim_id=new_claim_id(),
                org_id="org-1",
                idempotency_key="race",
                request_hash="h",
                claim=claim,
                received_at=T0,
            )
            await asyncio.sleep(0.05)  # hold the transaction open while the other one inserts
            await uow.commit()
            return result

    results = await asyncio.gather(racer(make_claim()), racer(make_claim()))

    assert sorted(r.created for r in results) == [False, True]
    assert results[0].claim_id == results[1].claim_id
    assert await count(session_factory, ClaimRegister) == 1


async def test_a_unit_of_work_that_is_not_committed_leaves_nothing(session_factory):
    async with UnitOfWork(session_factory) as uow:
        await uow.claims.intake(
            claim_id=new_claim_id(),
            org_id="org-1",
            idempotency_key=None,
            request_hash="h",
            claim=make_claim(),
            received_at=T0,
        )

    with pytest.raises(RuntimeError):
        async with UnitOfWork(session_factory) as uow:
            await uow.claims.intake(
                claim_id=new_claim_id(),
                org_id="org-1",
                idempotency_key=None,
                request_hash="h",
                claim=make_claim(),
                received_at=T0,
            )
            raise RuntimeError("boom")

    assert await count(session_factory, ClaimRegister) == 0


async def test_load_claim_returns_the_document_or_refuses_an_unknown_id(session_factory):
    claim = make_claim(patient_control_number="PCN-LOAD")
    result = await take_in(session_factory, claim=claim)

    async with UnitOfWork(session_factory) as uow:
        assert await uow.claims.load_claim(result.claim_id) == claim
        assert await uow.claims.get_record("0" * 32) is None
        with pytest.raises(ClaimNotFoundError, match=r"0{32}"):
            await uow.claims.load_claim("0" * 32)
