"""`claimflow audit verify`: exit 0 with the row count and head when the chain is intact, 1 naming the first bad row."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from sqlalchemy import make_url

from tests.db.test_audit_chain import append, as_owner, five_rows

REPO = Path(__file__).resolve().parents[2]


def claimflow_audit_verify(db_url: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("CLAIMFLOW_")}
    env |= {
        "CLAIMFLOW_DATABASE_URL": make_url(db_url).render_as_string(hide_password=False),  # the application's role
        "PYTHONPATH": str(REPO),
    }
    return subprocess.run(
        [sys.executable, "-m", "workers.cli", "audit", "verify"],
        cwd=tmp_path,  # no .env of the repository's
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


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
