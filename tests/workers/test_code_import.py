"""`claimflow codes import` end to end: the CLI against a test database, with its progress and its errors."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import make_url

from tests.support.database import create_test_database, drop_test_database

REPO = Path(__file__).resolve().parents[2]
HCPCS = REPO / "db" / "seed" / "hcpcs_extract.txt"


@pytest.fixture(scope="module")
def db_url() -> Iterator[str]:
    url = create_test_database()
    yield url
    drop_test_database(url)


def claimflow(tmp_path: Path, db_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("CLAIMFLOW_")}
    env |= {"PYTHONPATH": str(REPO), "CLAIMFLOW_DATABASE_URL": db_url, "COLUMNS": "120"}
    return subprocess.run(
        [sys.executable, "-m", "workers.cli", "codes", "import", *args],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def query(db_url: str, statement: str) -> list[tuple[object, ...]]:
    url = make_url(db_url).set(drivername="postgresql")
    with psycopg.connect(url.render_as_string(hide_password=False)) as connection:
        return connection.execute(statement).fetchall()


def test_a_full_hcpcs_import_shows_progress_and_records_the_load(db_url, tmp_path):
    done = claimflow(tmp_path, db_url, "--system", "hcpcs", str(HCPCS), "--full", "--version", "2026-Q4")

    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "imported 62 hcpcs 2026-Q4 codes from hcpcs_extract.txt as the complete release"
    assert "hcpcs hcpcs_extract.txt" in done.stderr and "150/150" in done.stderr  # the progress bar, finished
    assert query(db_url, "SELECT loaded_in_full, source, codes FROM code_system_load WHERE system = 'hcpcs'") == [
        (True, "hcpcs_extract.txt", 62)
    ]
    assert query(db_url, "SELECT action, details->>'codes' FROM audit_log WHERE action = 'codes.imported'") == [
        ("codes.imported", "62")
    ]


def test_a_malformed_file_exits_1_naming_the_line_and_imports_nothing(db_url, tmp_path):
    good = next(line for line in HCPCS.open() if line.startswith("G0483"))
    bad = tmp_path / "HCPC2027_JAN_ANWEB.txt"
    bad.write_text(good.replace("G0483", "G9990") + good.replace("G0483", "G9991").replace("20160101", "2016-1-1"))

    done = claimflow(tmp_path, db_url, "--system", "hcpcs", str(bad))

    assert done.returncode == 1
    assert "HCPC2027_JAN_ANWEB.txt: line 2: add date: '2016-1-1' is not a date (YYYYMMDD); nothing was imported" in (
        " ".join(done.stderr.split())
    )
    assert query(db_url, "SELECT code FROM cpt_code WHERE code IN ('G9990', 'G9991')") == []


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (("--system", "snomed", str(HCPCS)), "no importer for 'snomed'; choose one of"),
        (("--system", "cpt", "missing.csv"), "missing.csv: no such file"),
    ],
)
def test_a_wrong_request_exits_2_and_says_why(db_url, tmp_path, args, said):
    done = claimflow(tmp_path, db_url, *args)

    assert done.returncode == 2
    assert said in done.stderr
