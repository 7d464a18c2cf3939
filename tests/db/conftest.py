"""Fixtures for the persistence tests: one migrated PostgreSQL database, claim tables emptied per test."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from db.engine import create_engine, create_session_factory
from tests.support.database import create_test_database, drop_test_database, empty_tables, owner_url

#: Tables that tests fill; reference tables keep their seed. Emptied as the owner (the app role may not TRUNCATE).
CLAIM_TABLES = (
    "webhook_delivery",
    "subscription",
    "claim_document_version",
    "claim_document",
    "x12_interchange",
    "claim_eligibility",
    "audit_log",
    "payment",
    "claim_ledger_entry",
    "provider_adjustment",
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
async def owner_engine(db_url: str) -> AsyncIterator[AsyncEngine]:
    """An engine as the tables' owner, for setting up what the application's role may not write."""
    engine = create_engine(owner_url(db_url))
    yield engine
    await engine.dispose()


@pytest.fixture(scope="session")
def session_factory(db_engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return create_session_factory(db_engine)


@pytest.fixture(autouse=True)
def empty_claim_tables(db_url: str) -> None:
    """Each test starts with no claims, an empty audit chain (and the seeded reference data)."""
    empty_tables(db_url, CLAIM_TABLES)
