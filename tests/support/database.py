"""Throwaway PostgreSQL databases for tests: created, migrated and seeded, then dropped."""

from __future__ import annotations

import os
import uuid

import psycopg
from psycopg import sql
from sqlalchemy import make_url

from db.migrate import upgrade

DEFAULT_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"


def default_admin_url() -> str:
    """Where tests may create databases: CLAIMFLOW_TEST_DATABASE_URL, or the local server."""
    return os.environ.get("CLAIMFLOW_TEST_DATABASE_URL", DEFAULT_ADMIN_URL)


def _libpq(url: str) -> str:
    """A URL psycopg itself accepts (no SQLAlchemy driver suffix)."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def create_test_database(admin_url: str | None = None, *, migrate: bool = True) -> str:
    """Create `claimflow_test_<random>`, migrate and seed it (unless `migrate=False`); return its async URL."""
    admin = admin_url or default_admin_url()
    name = f"claimflow_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(_libpq(admin), autocommit=True) as connection:
        connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    url = make_url(admin).set(drivername="postgresql+psycopg", database=name).render_as_string(hide_password=False)
    if not migrate:
        return url
    try:
        upgrade(url)
    except BaseException:
        drop_test_database(url, admin)
        raise
    return url


def drop_test_database(url: str, admin_url: str | None = None) -> None:
    """Terminate the database's connections and drop it (no error if it is already gone)."""
    name = make_url(url).database
    if not name:
        raise ValueError(f"{url!r} names no database")
    admin = admin_url or make_url(url).set(database=make_url(default_admin_url()).database).render_as_string(
        hide_password=False
    )
    with psycopg.connect(_libpq(admin), autocommit=True) as connection:
        connection.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
            (name,),
        )
        connection.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(name)))
