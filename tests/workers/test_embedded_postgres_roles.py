"""The embedded PostgreSQL sets up least privilege itself: `postgres` owns the tables and migrates, the stack
connects as `claimflow_app`, which may append to the audit log but not rewrite it."""

from __future__ import annotations

import shutil
import stat
import tempfile
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import make_url

from tests.support.stack import free_port
from workers.database import database
from workers.embedded_postgres import APP_USER, USER
from workers.settings import Settings


def libpq(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


@pytest.fixture
def data_dir() -> Iterator[Path]:
    """A folder under /tmp: as root the server runs as another user, who cannot enter pytest's private tmp_path."""
    folder = Path(tempfile.mkdtemp(prefix="claimflow-test-roles-"))
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


def test_the_embedded_stack_migrates_as_the_owner_and_connects_as_the_app_role(data_dir: Path) -> None:
    settings = Settings(_env_file=None, data_dir=data_dir, embedded_database_port=free_port(), database_url="")
    with database(settings) as db:
        db.migrate()
        assert (make_url(db.migration_url).username, make_url(db.url).username) == (USER, APP_USER)
        with psycopg.connect(libpq(db.url)) as app:
            owners = app.execute("SELECT DISTINCT tableowner FROM pg_tables WHERE schemaname = 'public'").fetchall()
            app.execute(
                "INSERT INTO audit_log (event_key, actor, action, at, details) VALUES ('k', 'a', 'b', now(), '{}')"
            )
            assert app.execute("SELECT id FROM audit_log").fetchall() == [(1,)]
            app.commit()
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                app.execute("TRUNCATE audit_log")
        assert owners == [(USER,)]
        first_password = make_url(db.url).password

    password_file = data_dir / "claimflow_app.password"
    assert stat.S_IMODE(password_file.stat().st_mode) == 0o600
    with database(settings) as again:  # a restart keeps the role and its password
        assert make_url(again.url).password == first_password
        with psycopg.connect(libpq(again.url)) as app:
            assert app.execute("SELECT count(*) FROM audit_log").fetchone() == (1,)
