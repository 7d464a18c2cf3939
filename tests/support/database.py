"""Throwaway PostgreSQL databases for tests (and bench): created, migrated and seeded, then dropped.

They live on the server CLAIMFLOW_TEST_DATABASE_URL names (which must answer: a wrong URL fails
loudly, it is never skipped), or, when it is unset, on one embedded PostgreSQL started for the
whole run in a temporary folder and removed with it.

As in production, the tests connect as an application role that owns nothing (one per database,
`<database>_app`, granted what db/migrate.py grants), so a privilege the application needs but lacks
fails a test; the server's admin owns the tables and runs the migrations (`owner_url`).
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import socket
import tempfile
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import psycopg
from psycopg import sql
from sqlalchemy import make_url
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.audit_chain import GENESIS_HASH
from db.engine import create_engine, create_session_factory
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
    """Create `claimflow_test_<random>`, migrate and seed it, and return its async URL as the application's role
    (granted what db/migrate.py grants, nothing more). With `migrate=False`, an empty database's URL as its owner."""
    admin = admin_url or default_admin_url()
    name = f"claimflow_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(_libpq(admin), autocommit=True) as connection:
        connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    owner = make_url(admin).set(drivername="postgresql+psycopg", database=name).render_as_string(hide_password=False)
    _owners[name], _admins[name] = owner, admin
    if not migrate:
        return owner
    try:
        app = create_app_role(admin, name)
        upgrade(owner, app_role=make_url(app).username)
    except BaseException:
        drop_test_database(owner, admin)
        raise
    return app


#: Each test database's owner URL, and the admin URL that made it, by database name.
_owners: dict[str, str] = {}
_admins: dict[str, str] = {}


def app_role_of(database: str) -> str:
    """The application role made for one test database."""
    return f"{database}_app"


def create_app_role(admin: str, database: str) -> str:
    """Make `database`'s application role (no privileges yet: migrating grants them); its URL."""
    role, password = app_role_of(database), secrets.token_urlsafe(18)
    with psycopg.connect(_libpq(admin), autocommit=True) as connection:
        connection.execute(
            sql.SQL("CREATE ROLE {} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOINHERIT PASSWORD {}").format(
                sql.Identifier(role), sql.Literal(password)
            )
        )
    return (
        make_url(admin)
        .set(drivername="postgresql+psycopg", database=database, username=role, password=password)
        .render_as_string(hide_password=False)
    )


def owner_url(url: str) -> str:
    """The URL of `url`'s database as the role that owns its tables (the server's admin)."""
    name = make_url(url).database or ""
    return _owners.get(name) or make_url(default_admin_url()).set(
        drivername="postgresql+psycopg", database=name
    ).render_as_string(hide_password=False)


def empty_tables(url: str, tables: tuple[str, ...]) -> None:
    """As the owner, empty `tables` of `url`'s database and restart the audit chain: the TRUNCATE triggers that
    guard audit_log and claim_note are disabled for that transaction only (tests start from nothing)."""
    guarded = {
        "audit_log": "audit_log_never_truncated",
        "claim_note": "claim_note_never_truncated",
        "claim_ledger_entry": "claim_ledger_entry_never_truncated",
        "provider_adjustment": "provider_adjustment_never_truncated",
    }
    with psycopg.connect(_libpq(owner_url(url))) as connection:
        for table, trigger in guarded.items():
            connection.execute(
                sql.SQL("ALTER TABLE {} DISABLE TRIGGER {}").format(sql.Identifier(table), sql.Identifier(trigger))
            )
        connection.execute(sql.SQL("TRUNCATE {}").format(sql.SQL(", ").join(map(sql.Identifier, tables))))
        for table, trigger in guarded.items():
            connection.execute(
                sql.SQL("ALTER TABLE {} ENABLE TRIGGER {}").format(sql.Identifier(table), sql.Identifier(trigger))
            )
        connection.execute("UPDATE audit_chain_head SET last_id = 0, last_hash = %s", (GENESIS_HASH,))


def drop_test_database(url: str, admin_url: str | None = None) -> None:
    """Terminate the database's connections, drop it and its application role (no error if they are gone)."""
    name = make_url(url).database
    if not name:
        raise ValueError(f"{url!r} names no database")
    admin = admin_url or _admins.get(name) or default_admin_url()
    with psycopg.connect(_libpq(admin), autocommit=True) as connection:
        connection.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
            (name,),
        )
        connection.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(name)))
        connection.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(app_role_of(name))))
    _owners.pop(name, None)
    _admins.pop(name, None)


@contextlib.asynccontextmanager
async def owner_session(sessions: async_sessionmaker[AsyncSession]) -> AsyncIterator[AsyncSession]:
    """A session on the database `sessions` reach, as the tables' owner: for setting up what the application's role
    may not write (reference rows such as adjusters)."""
    bind = sessions.kw["bind"]
    engine = create_engine(owner_url(bind.url.render_as_string(hide_password=False)))
    try:
        async with create_session_factory(engine)() as session:
            yield session
    finally:
        await engine.dispose()
