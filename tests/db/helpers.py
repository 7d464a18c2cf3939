"""Small builders shared by the persistence tests."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.records import IntakeResult, NoteKind
from db.uow import UnitOfWork
from domain.claim import Claim
from domain.status import ClaimStatus
from tests.domain.factories import make_claim

T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


def new_claim_id() -> str:
    return uuid.uuid4().hex


def at(minutes: int) -> datetime:
    """A fixed point in time, `minutes` after T0."""
    return T0 + timedelta(minutes=minutes)


async def take_in(
    sessions: async_sessionmaker[AsyncSession],
    *,
    claim: Claim | None = None,
    claim_id: str | None = None,
    org_id: str = "org-1",
    key: str | None = None,
    received_at: datetime = T0,
    request_hash: str = "hash-1",
) -> IntakeResult:
    """Take a claim in and commit."""
    async with UnitOfWork(sessions) as uow:
        result = await uow.claims.intake(
            claim_id=claim_id or new_claim_id(),
            org_id=org_id,
            idempotency_key=key,
            request_hash=request_hash,
            claim=claim or make_claim(),
            received_at=received_at,
        )
        await uow.commit()
    return result


async def record(
    sessions: async_sessionmaker[AsyncSession], claim_id: str, seq: int, status: ClaimStatus, **extra: Any
) -> bool:
    """Record status change `seq` (reason "to <status>", at `at(seq)`, by "workflow") and commit."""
    async with UnitOfWork(sessions) as uow:
        written = await uow.claims.record_status(
            claim_id=claim_id,
            seq=seq,
            status=status,
            reason=f"to {status.value}",
            at=at(seq),
            actor="workflow",
            **extra,
        )
        await uow.commit()
    return written


async def add_note(
    sessions: async_sessionmaker[AsyncSession],
    claim_id: str,
    *,
    kind: NoteKind = "decision",
    body: str = "documentation complete",
    author: str = "adjuster:alice",
    written_at: datetime = T0,
) -> str:
    """Store a note and commit; its id."""
    async with UnitOfWork(sessions) as uow:
        note_id = await uow.claims.add_note(claim_id=claim_id, kind=kind, body=body, author=author, at=written_at)
        await uow.commit()
    return note_id


@contextmanager
def statements_run(sessions: async_sessionmaker[AsyncSession]) -> Iterator[list[str]]:
    """The SQL statements sent to the database while the block runs."""
    engine = sessions.kw["bind"].sync_engine
    sent: list[str] = []

    def on_execute(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        sent.append(statement)

    event.listen(engine, "before_cursor_execute", on_execute)
    try:
        yield sent
    finally:
        event.remove(engine, "before_cursor_execute", on_execute)
