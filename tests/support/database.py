"""Throwaway PostgreSQL databases for tests (and bench): created, migrated and seeded, then dropped.

They live on the server CLAIMFLOW_TEST_DATABASE_URL names (which must answer: a wrong URL fails
loudly, it is never skipped), or, when it is unset, on one embedded PostgreSQL started for the
whole run in a temporary folder and removed with it.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import tempfile
import uuid
from pathlib import Path

import psycopg
from psycopg import sql
from sqlalchemy import make_url

from db.migrate import upgrade
from workers.embedded_postgres import embedded_postgres

#: The variable that points the tests at a PostgreSQL server of your own (any database on it; tests create theirs).
TEST_DATABASE_URL = "CLAIMFLOW_TEST_DATABASE_URL"


class _TestServer:
    """The run's PostgreSQL: the configured one, or an embedded one started on first use."""

    def __init__(self) -> None:
        self._admin_url: str | None = None
        self._embedded: contextlib.ExitStack | None = None
        self._folder: Path | None = None

    def admin_url(self) -> str:
        if self._admin_url is None:
            configured = os.environ.get(TEST_DATABASE_URL)
            self._admin_url = _answering(configured) if configured else self._start_embedded()
        return self._admin_url

    def _start_embedded(self) -> str:
        self._folder = Path(tempfile.mkdtemp(prefix="claimflow-test-postgres-"))
        self._embedded = contextlib.ExitStack()
        url = self._embedded.enter_context(embedded_postgres(self._folder, port=_free_port(), tuned_for_tests=True))
        return make_url(url).set(database="postgres").render_as_string(hide_password=False)

    def stop(self) -> None:
        """Stop and remove the embedded server, if this run started one."""
        if self._embedded is not None:
            self._embedded.close()
            self._embedded = None
        if self._folder is not None:
            shutil.rmtree(self._folder, ignore_errors=True)
            self._folder = None
        self._admin_url = None


def _answering(url: str) -> str:
    try:
        with psycopg.connect(_libpq(url), connect_timeout=5):
            pass
    except psycopg.OperationalError as exc:
        raise RuntimeError(
            f"{TEST_DATABASE_URL} is set but its server does not answer ({exc.__class__.__name__}); "
            f"start it, fix the URL, or unset the variable to run the tests on an embedded PostgreSQL"
        ) from None
    return url


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


_server = _TestServer()


def default_admin_url() -> str:
    """A URL on the run's PostgreSQL server through which tests create and drop their databases."""
    return _server.admin_url()


def stop_test_server() -> None:
    """At the end of the run: stop the embedded server, if one was started."""
    _server.stop()


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
