"""Engine and session factory for PostgreSQL (psycopg)."""

from __future__ import annotations

import logging

from sqlalchemy import URL, make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine


def postgresql_url(url: str) -> URL:
    """`url` with the psycopg driver, which serves sync (migrations) and async alike; `postgresql://` will do.

    Anything but a PostgreSQL URL is a ValueError that names the setting to fix.
    """
    try:
        parsed: URL | None = make_url(
            "postgresql://" + url.removeprefix("postgres://") if url.startswith("postgres://") else url
        )
    except ArgumentError:
        parsed = None
    if parsed is None or parsed.get_backend_name() != "postgresql":
        got = f"a {parsed.get_backend_name()} URL" if parsed else "a value that is not a URL"
        raise ValueError(
            f"CLAIMFLOW_DATABASE_URL must be a PostgreSQL URL such as postgresql://user:password@host:5432/claimflow"
            f" (claimflow runs on PostgreSQL only), not {got}"
        )
    return parsed.set(drivername="postgresql+psycopg")


class _NoRows(logging.Filter):
    """Drops SQLAlchemy's DEBUG records: they are result rows (a claim's document, a note), whatever the level."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.levelno > logging.DEBUG


_NO_ROWS = _NoRows()


def create_engine(url: str) -> AsyncEngine:
    """An async engine on the PostgreSQL database at `url`.

    `hide_parameters`: a statement's parameters (a claim's document, a note) never appear in an exception's
    message, which becomes an activity's failure in the workflow's history, nor in SQL logging; and result
    rows are never logged, even with SQLAlchemy's loggers at DEBUG.
    """
    logging.getLogger("sqlalchemy.engine.Engine").addFilter(_NO_ROWS)  # once: addFilter skips a filter it has
    return create_async_engine(
        postgresql_url(url),
        pool_size=10,
        max_overflow=10,
        pool_pre_ping=True,
        pool_recycle=1800,
        hide_parameters=True,
    )


def create_session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """Sessions whose objects stay readable after commit."""
    return async_sessionmaker(engine, expire_on_commit=False)
