"""The audit log: appended idempotently (the refusals to change it: test_audit_roles.py)."""

from __future__ import annotations

from db.uow import UnitOfWork
from tests.db.helpers import at


async def append(uow: UnitOfWork, event_key: str, claim_id: str | None = "c" * 32) -> bool:
    return await uow.audit.append(
        claim_id=claim_id,
        actor="alice",
        action="claim.viewed",
        at=at(0),
        details={"why": "review"},
        event_key=event_key,
    )


async def test_append_is_idempotent_on_the_event_key(session_factory):
    async with UnitOfWork(session_factory) as uow:
        assert await append(uow, "view-1")
        assert not await append(uow, "view-1")
        assert await append(uow, "view-2")
        assert await append(uow, "system-1", claim_id=None)
        await uow.commit()

    async with UnitOfWork(session_factory) as uow:
        entries = await uow.audit.list_for_claim("c" * 32)
    assert [e.details for e in entries] == [{"why": "review"}, {"why": "review"}]
    assert entries[0].id < entries[1].id and entries[0].at == at(0)
