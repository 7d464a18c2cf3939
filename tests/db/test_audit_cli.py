"""`claimflow audit verify`: exit 0 with the row count and head when the chain is intact, 1 naming the first bad row;
`claimflow migrate` on a configured server: as the owner, granting the application's role what it needs."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import make_url

from tests.db.test_audit_chain import append, as_owner, five_rows
from tests.support.database import (
    app_role_of,
    create_app_role,
    create_test_database,
    default_admin_url,
    drop_test_database,
    owner_url,
)

REPO = Path(__file__).resolve().parents[2]


def claimflow(tmp_path: Path, *args: str, **settings: str) -> subprocess.CompletedProcess[str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("CLAIMFLOW_")}
    env |= {"PYTHONPATH": str(REPO), **settings}
    return subprocess.run(
        [sys.executable, "-m", "workers.cli", *args],
        cwd=tmp_path,  # no .env of the repository's
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def claimflow_audit_verify(db_url: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    return claimflow(tmp_path, "audit", "verify", CLAIMFLOW_DATABASE_URL=db_url)  # as the application's role


async def test_an_intact_chain_exits_0_with_its_length_and_head(session_factory, db_url, tmp_path):
    await five_rows(session_factory)
    assert await append(session_factory, "sixth")

    done = claimflow_audit_verify(db_url, tmp_path)

    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("audit log intact: 6 rows, head 6 ")


async def test_an_altered_row_exits_1_naming_it(session_factory, db_url, tmp_path):
    await five_rows(session_factory)
    with as_owner(db_url) as owner:
        owner.execute("ALTER TABLE audit_log DISABLE TRIGGER audit_log_append_only")
        owner.execute('UPDATE audit_log SET details = \'{"why": "nothing to see"}\' WHERE id = 4')
        owner.execute("ALTER TABLE audit_log ENABLE TRIGGER audit_log_append_only")

    done = claimflow_audit_verify(db_url, tmp_path)

    assert done.returncode == 1
    assert done.stderr.startswith("audit log broken at row 4 (altered): row 4 does not match its hash")


def test_migrate_connects_as_the_owner_and_grants_the_configured_application_role(tmp_path):
    owner = create_test_database(migrate=False)
    name = make_url(owner).database or ""
    try:
        app = create_app_role(default_admin_url(), name)

        done = claimflow(tmp_path, "migrate", CLAIMFLOW_DATABASE_URL=app, CLAIMFLOW_DATABASE_MIGRATION_URL=owner)

        assert done.returncode == 0, done.stderr
        assert f"granted the application's role {app_role_of(name)} what it needs" in done.stdout
        with psycopg.connect(make_url(app).set(drivername="postgresql").render_as_string(False)) as connection:
            connection.execute(
                "INSERT INTO audit_log (event_key, actor, action, at, details) VALUES ('k', 'a', 'b', now(), '{}')"
            )
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                connection.execute("DELETE FROM payer")
    finally:
        drop_test_database(owner)


def test_migrate_with_one_role_for_both_warns(db_url, tmp_path):
    done = claimflow(tmp_path, "migrate", CLAIMFLOW_DATABASE_URL=owner_url(db_url))

    assert done.returncode == 0, done.stderr
    assert "the application connects as the tables' owner" in done.stderr
