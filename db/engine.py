"""Engine and session factory for PostgreSQL (psycopg) and SQLite (aiosqlite)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, Engine, event, make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

from domain.settings import async_url

#: How long a SQLite connection waits for another writer before giving up.
SQLITE_BUSY_TIMEOUT_MS = 10_000


def create_engine(url: str) -> AsyncEngine:
    """An async engine for `postgresql+psycopg://...` or `sqlite+aiosqlite:///path`.

    Plain `postgresql://` and `sqlite:///` URLs are mapped to those drivers.
    """
    parsed = make_url(async_url(url))
    if parsed.get_backend_name() == "sqlite":
        engine = create_async_engine(parsed)
        configure_sqlite(engine.sync_engine)
        return engine
    return create_async_engine(parsed, pool_size=10, max_overflow=10, pool_pre_ping=True, pool_recycle=1800)


def create_session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """Sessions whose objects stay readable after commit."""
    return async_sessionmaker(engine, expire_on_commit=False)


def configure_sqlite(engine: Engine) -> None:
    """Make SQLite behave for concurrent use: WAL, foreign keys, a busy timeout, real transactions.

    The driver's own transaction handling is turned off and every transaction starts with
    BEGIN IMMEDIATE, which takes the write lock up front: two writers then queue on the busy
    timeout instead of failing when a read lock cannot be upgraded. DDL becomes
    transactional too, so a failed migration leaves nothing behind.
    """

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        finally:
            cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Connection) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")
