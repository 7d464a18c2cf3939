"""A throwaway PostgreSQL database for one benchmark run: created, migrated and seeded, then dropped.

It lives where the tests put theirs: on the server CLAIMFLOW_TEST_DATABASE_URL names (which must
answer), or, when that is unset, on an embedded PostgreSQL started for the run in a temporary folder
(tuned like the tests': no fsync) and removed with it.
"""

from __future__ import annotations

import os
import shutil
import socket
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
from psycopg import sql
from sqlalchemy import make_url

from db.migrate import upgrade
from workers.embedded_postgres import embedded_postgres

#: The variable that points the benchmarks (and the tests) at a PostgreSQL server of your own.
TEST_DATABASE_URL = "CLAIMFLOW_TEST_DATABASE_URL"


@contextmanager
def throwaway_database() -> Iterator[str]:
    """A fresh database `claimflow_bench_<random>`, migrated and seeded; its async URL. Dropped afterwards."""
    with _server() as admin:
        name = f"claimflow_bench_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(_libpq(admin), autocommit=True) as connection:
            connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        try:
            url = make_url(admin).set(drivername="postgresql+psycopg", database=name)
            upgrade(url.render_as_string(hide_password=False))
            yield url.render_as_string(hide_password=False)
        finally:
            with psycopg.connect(_libpq(admin), autocommit=True) as connection:
                connection.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s", (name,))
                connection.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(name)))


@contextmanager
def _server() -> Iterator[str]:
    """A URL through which to create and drop databases: the configured server, or an embedded one."""
    configured = os.environ.get(TEST_DATABASE_URL)
    if configured:
        yield _answering(configured)
        return
    folder = Path(tempfile.mkdtemp(prefix="claimflow-bench-postgres-"))
    try:
        with embedded_postgres(folder, port=_free_port(), tuned_for_tests=True) as url:
            yield make_url(url).set(database="postgres").render_as_string(hide_password=False)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _answering(url: str) -> str:
    try:
        with psycopg.connect(_libpq(url), connect_timeout=5):
            pass
    except psycopg.OperationalError as exc:
        raise SystemExit(
            f"{TEST_DATABASE_URL} is set but its server does not answer ({exc.__class__.__name__}); "
            "start it, fix the URL, or unset the variable to run on an embedded PostgreSQL"
        ) from None
    return url


def _libpq(url: str) -> str:
    """A URL psycopg itself accepts (no SQLAlchemy driver suffix)."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port
