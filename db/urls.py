"""Database URLs: the synchronous twin of an async URL (for migrations)."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import URL, make_url

from domain.settings import async_url


def sync_url(url: str) -> URL:
    """`postgresql+psycopg` stays (psycopg 3 is sync and async); `sqlite+aiosqlite` becomes `sqlite`."""
    parsed = make_url(async_url(url))
    match parsed.get_backend_name():
        case "sqlite":
            return parsed.set(drivername="sqlite")
        case "postgresql":
            return parsed.set(drivername="postgresql+psycopg")
        case _:
            return parsed


def sqlite_file(url: URL) -> Path | None:
    """The file a SQLite URL points at; None for other databases and in-memory SQLite."""
    if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
        return None
    return Path(url.database)
