"""The audit log's hash chain: built by the database on every append, verified row by row, tampering found."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import psycopg
from sqlalchemy import make_url, select

from db.audit_chain import GENESIS_HASH, ChainRow, Problem, row_hash
from db.models import AuditLog
from db.uow import UnitOfWork
from services.audit import verify_chain
from tests.db.helpers import at, take_in
from tests.support.database import owner_url

#: Details that make the canonical encoding earn its keep: nesting, key order, quotes, unicode, numbers, null.
AWKWARD_DETAILS: list[dict[str, Any]] = [
    {},
    {"b": 1, "a": [1, 2.5, None, True], "nested": {"z": "ü→✓", "q": 'say "hi"\\n\\t'}},
    {"amount": "45.00", "status": "in_review", "count": 12345678901234},
    {"empty": "", "list": [], "obj": {}},
]


async def append(sessions, event_key: str, *, claim_id: str | None = "c" * 32, details=None, actor="alice") -> bool:
    async with UnitOfWork(sessions) as uow:
        wrote = await uow.audit.append(
            claim_id=claim_id,
            actor=actor,
            action="claim.read",
            at=at(len(event_key)),
            details=details if details is not None else {"why": "review"},
            event_key=event_key,
        )
        await uow.commit()
    return wrote


async def chain(sessions) -> list[tuple[int, str, str]]:
    """(id, prev_hash, row_hash) of every row, in id order."""
    async with sessions() as session:
        rows = await session.execute(select(AuditLog.id, AuditLog.prev_hash, AuditLog.row_hash).order_by(AuditLog.id))
        return [tuple(row) for row in rows]


async def head(sessions) -> tuple[int, str]:
    async with UnitOfWork(sessions) as uow:
        return await uow.audit.chain_head()


@contextmanager
def as_owner(db_url: str) -> Iterator[psycopg.Connection[Any]]:
    """A connection as the tables' owner, committed when the block ends: the tamperer with the most power."""
    url = make_url(owner_url(db_url)).set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(url) as connection:
        yield connection


async def five_rows(sessions) -> None:
    for number in range(1, 6):
        assert await append(sessions, f"event-{number}")


class TestChain:
    async def test_every_append_links_to_the_one_before_and_verifies(self, session_factory):
        for number, details in enumerate(AWKWARD_DETAILS):
            assert await append(
                session_factory, f"awkward-{number}", details=details, claim_id=None if number else "c" * 32
            )
        await take_in(session_factory)  # the intake statement appends through the same trigger

        rows = await chain(session_factory)
        assert [row[0] for row in rows] == [1, 2, 3, 4, 5]
        assert rows[0][1] == GENESIS_HASH
        assert all(rows[n][1] == rows[n - 1][2] for n in range(1, len(rows)))
        result = await verify_chain(session_factory)
        assert (result.intact, result.rows, result.first_bad_row) == (True, 5, None)
        assert (result.head_id, result.head_hash) == (5, rows[-1][2]) == await head(session_factory)

    async def test_the_database_computes_the_hash_the_verifier_computes(self, session_factory):
        assert await append(session_factory, "one", details=AWKWARD_DETAILS[1], actor="admin:ünïcode")
        async with UnitOfWork(session_factory) as uow:
            [stored] = [row async for row in uow.audit.chain_rows()]
        assert isinstance(stored, ChainRow)
        assert row_hash(stored) == stored.row_hash

    async def test_an_append_whose_event_key_exists_writes_nothing_and_leaves_the_chain_alone(self, session_factory):
        assert await append(session_factory, "once")
        before = await head(session_factory)

        assert not await append(session_factory, "once", details={"other": "content"})

        assert await head(session_factory) == before
        assert await append(session_factory, "next")
        assert [row[0] for row in await chain(session_factory)] == [1, 2]  # no gap where the duplicate was refused
        assert (await verify_chain(session_factory)).intact

    async def test_a_batch_in_one_transaction_repeating_a_key_is_chained_once(self, session_factory):
        async with UnitOfWork(session_factory) as uow:
            for key in ("a", "b", "a", "c"):
                await uow.audit.append(claim_id=None, actor="x", action="y", at=at(0), details={}, event_key=key)
            await uow.commit()

        assert [row[0] for row in await chain(session_factory)] == [1, 2, 3]
        assert (await verify_chain(session_factory)).intact

    async def test_appends_from_many_connections_at_once_keep_one_unbroken_chain(self, session_factory):
        keys = [f"parallel-{n % 25}" for n in range(40)]  # 15 of them repeat a key another task appends

        written = await asyncio.gather(*(append(session_factory, key) for key in keys))

        assert sum(written) == 25
        assert [row[0] for row in await chain(session_factory)] == list(range(1, 26))
        result = await verify_chain(session_factory)
        assert (result.intact, result.rows) == (True, 25)

    async def test_verification_with_batches_smaller_than_the_log_sees_every_row(self, session_factory):
        await five_rows(session_factory)

        result = await verify_chain(session_factory, batch=2)

        assert (result.intact, result.rows, result.head_id) == (True, 5, 5)

    async def test_an_empty_log_is_intact(self, session_factory):
        result = await verify_chain(session_factory)
        assert (result.intact, result.rows, result.head_id, result.head_hash) == (True, 0, 0, GENESIS_HASH)


class TestTampering:
    """The owner can switch the guards off; verification still names the first bad row."""

    async def test_a_row_updated_with_the_triggers_off_is_reported_altered(self, session_factory, db_url):
        await five_rows(session_factory)
        with as_owner(db_url) as owner:
            owner.execute("ALTER TABLE audit_log DISABLE TRIGGER audit_log_append_only")
            owner.execute("UPDATE audit_log SET actor = 'mallory' WHERE id = 3")
            owner.execute("ALTER TABLE audit_log ENABLE TRIGGER audit_log_append_only")

        result = await verify_chain(session_factory)

        assert (result.intact, result.first_bad_row, result.problem) == (False, 3, Problem.ALTERED)

    async def test_a_row_rewritten_with_a_fresh_hash_is_reported_altered(self, session_factory, db_url):
        await five_rows(session_factory)
        async with UnitOfWork(session_factory) as uow:
            rows = [row async for row in uow.audit.chain_rows()]
        forged = ChainRow(**{**rows[1].__dict__, "actor": "mallory"})
        forged = ChainRow(**{**forged.__dict__, "row_hash": row_hash(forged)})
        with as_owner(db_url) as owner:
            owner.execute("ALTER TABLE audit_log DISABLE TRIGGER audit_log_append_only")
            owner.execute(
                "UPDATE audit_log SET actor = %s, row_hash = %s WHERE id = 2", (forged.actor, forged.row_hash)
            )
            owner.execute("ALTER TABLE audit_log ENABLE TRIGGER audit_log_append_only")

        result = await verify_chain(session_factory)

        assert (result.first_bad_row, result.problem) == (2, Problem.ALTERED)

    async def test_a_middle_row_deleted_by_the_owner_is_reported_deleted(self, session_factory, db_url):
        await five_rows(session_factory)
        with as_owner(db_url) as owner:
            owner.execute("ALTER TABLE audit_log DISABLE TRIGGER audit_log_append_only")
            owner.execute("DELETE FROM audit_log WHERE id = 2")
            owner.execute("ALTER TABLE audit_log ENABLE TRIGGER audit_log_append_only")

        result = await verify_chain(session_factory)

        assert (result.intact, result.first_bad_row, result.problem) == (False, 2, Problem.DELETED)
        assert result.detail == "row 2 is missing before row 3"

    async def test_the_last_rows_deleted_by_the_owner_are_reported_deleted(self, session_factory, db_url):
        await five_rows(session_factory)
        with as_owner(db_url) as owner:
            owner.execute("ALTER TABLE audit_log DISABLE TRIGGER audit_log_append_only")
            owner.execute("DELETE FROM audit_log WHERE id >= 4")
            owner.execute("ALTER TABLE audit_log ENABLE TRIGGER audit_log_append_only")

        result = await verify_chain(session_factory)

        assert (result.first_bad_row, result.problem, result.detail) == (
            4,
            Problem.DELETED,
            "rows 4-5 are missing at the end",
        )

    async def test_a_forged_row_inserted_past_the_chain_is_reported_inserted(self, session_factory, db_url):
        await five_rows(session_factory)
        async with UnitOfWork(session_factory) as uow:
            last = [row async for row in uow.audit.chain_rows()][-1]
        forged = ChainRow(**{**last.__dict__, "id": 6, "event_key": "forged", "prev_hash": last.row_hash})
        forged = ChainRow(**{**forged.__dict__, "row_hash": row_hash(forged)})  # as well made as a forger can
        with as_owner(db_url) as owner:
            owner.execute("ALTER TABLE audit_log DISABLE TRIGGER audit_log_chained")
            owner.execute(
                "INSERT INTO audit_log (id, event_key, claim_id, actor, action, at, details, created_at, prev_hash,"
                " row_hash) VALUES (%s, %s, %s, %s, %s, %s, %s::jsonb, %s, %s, %s)",
                (
                    6,
                    "forged",
                    last.claim_id,
                    last.actor,
                    last.action,
                    last.at,
                    last.details_text,
                    last.created_at,
                    forged.prev_hash,
                    forged.row_hash,
                ),
            )
            owner.execute("ALTER TABLE audit_log ENABLE TRIGGER audit_log_chained")

        result = await verify_chain(session_factory)

        assert (result.intact, result.first_bad_row, result.problem) == (False, 6, Problem.INSERTED)

    async def test_a_forged_row_with_a_made_up_hash_is_reported(self, session_factory, db_url):
        await five_rows(session_factory)
        with as_owner(db_url) as owner:
            owner.execute("ALTER TABLE audit_log DISABLE TRIGGER audit_log_chained")
            owner.execute(
                "INSERT INTO audit_log (id, event_key, actor, action, at, details, prev_hash, row_hash)"
                " VALUES (0, 'forged', 'mallory', 'claim.read', now(), '{}', %s, %s)",
                (GENESIS_HASH, "f" * 64),
            )
            owner.execute("ALTER TABLE audit_log ENABLE TRIGGER audit_log_chained")

        result = await verify_chain(session_factory)

        assert (result.first_bad_row, result.problem) == (0, Problem.INSERTED)
