"""The dev stack's SQLite: migrate a fresh file, take claims in, read them back, keep the audit log append-only."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.engine import create_engine, create_session_factory
from db.migrate import upgrade
from db.uow import UnitOfWork
from domain.status import ClaimStatus
from tests.db.helpers import at, take_in
from tests.domain.factories import BILLING_NPI, MEMBER_ID, make_claim


@pytest.fixture
async def sqlite_sessions(tmp_path: Path) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    url = f"sqlite+aiosqlite:///{tmp_path / 'not' / 'yet' / 'there' / 'claimflow.db'}"
    upgrade(url)
    upgrade(url)  # twice: harmless
    engine = create_engine(url)
    yield create_session_factory(engine)
    await engine.dispose()


async def test_a_claim_goes_through_the_sqlite_store(sqlite_sessions):
    claim = make_claim()
    ids = [(await take_in(sqlite_sessions, claim=claim, received_at=at(n), key=f"k{n}")).claim_id for n in range(3)]
    async with UnitOfWork(sqlite_sessions) as uow:
        assert await uow.claims.write_snapshot(claim_id=ids[0], version=1, claim=claim, taken_at=at(5))
        assert not await uow.claims.write_snapshot(claim_id=ids[0], version=1, claim=claim, taken_at=at(5))
        assert await uow.claims.record_status(
            claim_id=ids[0], seq=1, status=ClaimStatus.SUBMITTED, reason="ok", at=at(6), actor="w"
        )
        await uow.commit()

    async with UnitOfWork(sqlite_sessions) as uow:
        record = await uow.claims.get_record(ids[0])
        first = await uow.claims.list_page(
            org_id="org-1", status=None, payer_id=None, adjuster=None, limit=2, cursor=None
        )
        rest = await uow.claims.list_page(
            org_id="org-1", status=None, payer_id=None, adjuster=None, limit=2, cursor=first.next_cursor
        )
        service_date = claim.lines[0].service_date
        found = await uow.claims.find_duplicates(
            claim_id=ids[1],
            payer_id="SANDBOX",
            member_id=MEMBER_ID,
            billing_npi=BILLING_NPI,
            lines=[("80053", service_date), ("80053", date(2000, 1, 1))],
        )

    assert record is not None and record.claim == claim and record.status is ClaimStatus.SUBMITTED
    assert record.created_at == at(0) and record.snapshot_version == 1
    assert [i.claim_id for i in first.items + rest.items] == ids[::-1] and rest.next_cursor is None
    assert found == {("80053", service_date): ids[0]}


async def test_concurrent_sqlite_intakes_with_one_key_create_exactly_one_claim(sqlite_sessions):
    results = await asyncio.gather(*(take_in(sqlite_sessions, key="same") for _ in range(4)))

    assert sorted(r.created for r in results) == [False, False, False, True]
    assert len({r.claim_id for r in results}) == 1


@pytest.mark.parametrize("statement", ["UPDATE audit_log SET actor = 'mallory'", "DELETE FROM audit_log"])
async def test_sqlite_refuses_to_change_the_audit_log(sqlite_sessions, statement):
    await take_in(sqlite_sessions)

    async with UnitOfWork(sqlite_sessions) as uow:
        with pytest.raises(DBAPIError, match="append-only"):
            await uow.session.execute(text(statement))
