"""Fixtures for the persistence tests: one migrated PostgreSQL database, claim tables emptied per test."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from db.engine import create_engine, create_session_factory
from tests.support.database import create_test_database, drop_test_database

#: Tables that tests fill; reference tables keep their seed. TRUNCATE is not blocked by the audit triggers.
CLAIM_TABLES = (
    "audit_log",
    "payment",
    "claim_line_adjudication",
    "claim_status_history",
    "claim_note",
    "bill_claim_relation",
    "claim_test_relation",
    "claim_provider_info",
    "insurance_claim",
    "claim",
)


@pytest.fixture(scope="session")
def db_url() -> Iterator[str]:
    """The async URL of a fresh, migrated and seeded PostgreSQL database for this test session."""
    url = create_test_database()
    yield url
    drop_test_database(url)


@pytest.fixture(scope="session")
async def db_engine(db_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(db_url)
    yield engine
    await engine.dispose()


@pytest.fixture(scope="session")
def session_factory(db_engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return create_session_factory(db_engine)


@pytest.fixture(autouse=True)
async def empty_claim_tables(db_engine: AsyncEngine) -> None:
    """Each test starts with no claims (and the seeded reference data)."""
    async with db_engine.begin() as connection:
        await connection.execute(text(f"TRUNCATE {', '.join(CLAIM_TABLES)}"))
