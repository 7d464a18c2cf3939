"""Status changes, assignment, line adjudication and payment: each recorded once, the register moving forward."""

from __future__ import annotations

from decimal import Decimal

import pytest

from db.errors import ClaimNotFoundError
from db.uow import UnitOfWork
from domain.status import ClaimStatus
from tests.db.helpers import at, record, take_in
from tests.domain.factories import make_claim


async def get(sessions, claim_id: str):
    async with UnitOfWork(sessions) as uow:
        found = await uow.claims.get_record(claim_id)
    assert found is not None
    return found


async def test_record_status_is_idempotent_on_seq(session_factory):
    claim_id = (await take_in(session_factory)).claim_id

    assert await record(session_factory, claim_id, 1, ClaimStatus.VALIDATING)
    assert not await record(session_factory, claim_id, 1, ClaimStatus.INVALID)

    found = await get(session_factory, claim_id)
    assert found.status is ClaimStatus.VALIDATING
    assert [(h.seq, h.status) for h in found.status_history] == [(0, "received"), (1, "validating")]
    async with UnitOfWork(session_factory) as uow:
        audit = await uow.audit.list_for_claim(claim_id)
    assert [(a.action, a.details) for a in audit] == [
        ("claim.received", {"status": "received", "seq": 0, "payer_id": "SANDBOX"}),
        ("claim.status_changed", {"status": "validating", "reason": "to validating", "seq": 1}),
    ]


async def test_a_status_recorded_late_enters_history_but_never_moves_the_register_back(session_factory):
    claim_id = (await take_in(session_factory)).claim_id
    await record(session_factory, claim_id, 1, ClaimStatus.VALIDATING)
    await record(session_factory, claim_id, 3, ClaimStatus.PENDING, payer_claim_id="P-1")

    assert await record(
        session_factory, claim_id, 2, ClaimStatus.SUBMITTED, assigned_adjuster="alice", validation_errors=[]
    )

    found = await get(session_factory, claim_id)
    assert found.status is ClaimStatus.PENDING
    assert found.assigned_adjuster is None
    assert found.payer_claim_id == "P-1"
    assert [h.seq for h in found.status_history] == [0, 1, 2, 3]


async def test_a_late_status_fills_a_missing_payer_claim_id(session_factory):
    claim_id = (await take_in(session_factory)).claim_id
    await record(session_factory, claim_id, 4, ClaimStatus.PENDING)

    await record(session_factory, claim_id, 3, ClaimStatus.SUBMITTED, payer_claim_id="P-9")

    found = await get(session_factory, claim_id)
    assert found.status is ClaimStatus.PENDING and found.payer_claim_id == "P-9"


async def test_record_status_sets_the_optional_fields_only_when_given(session_factory):
    claim_id = (await take_in(session_factory)).claim_id
    errors = [{"field": "lines[0].procedure_code", "rule": "procedure.unknown", "message": "unknown code"}]
    await record(session_factory, claim_id, 1, ClaimStatus.INVALID, validation_errors=errors)
    await record(session_factory, claim_id, 2, ClaimStatus.IN_REVIEW, assigned_adjuster="bob", payer_claim_id="P-2")
    await record(session_factory, claim_id, 3, ClaimStatus.INFO_REQUESTED)

    found = await get(session_factory, claim_id)
    assert found.status is ClaimStatus.INFO_REQUESTED
    assert found.validation_errors == errors
    assert found.assigned_adjuster == "bob" and found.payer_claim_id == "P-2"
    assert found.updated_at > found.created_at


async def test_a_claim_is_paid_once(session_factory):
    claim_id = (await take_in(session_factory)).claim_id

    async with UnitOfWork(session_factory) as uow:
        first = await uow.claims.record_payment(
            claim_id=claim_id, payment_id="pay-1", amount=Decimal("45.00"), paid_at=at(10)
        )
        again = await uow.claims.record_payment(
            claim_id=claim_id, payment_id="pay-1", amount=Decimal("45.00"), paid_at=at(10)
        )
        other = await uow.claims.record_payment(
            claim_id=claim_id, payment_id="pay-2", amount=Decimal("99.00"), paid_at=at(11)
        )
        await uow.commit()

    assert (first, again, other) == (True, False, False)
    payment = (await get(session_factory, claim_id)).payment
    assert payment is not None
    assert (payment.payment_id, payment.amount, payment.paid_at) == ("pay-1", Decimal("45.00"), at(10))


async def test_status_and_snapshot_of_an_unknown_claim_are_refused(session_factory):
    async with UnitOfWork(session_factory) as uow:
        with pytest.raises(ClaimNotFoundError):
            await uow.claims.record_status(
                claim_id="e" * 32, seq=1, status=ClaimStatus.VALIDATING, reason="r", at=at(1), actor="w"
            )
    async with UnitOfWork(session_factory) as uow:
        with pytest.raises(ClaimNotFoundError):
            await uow.claims.write_snapshot(claim_id="e" * 32, version=1, claim=make_claim(), taken_at=at(1))
