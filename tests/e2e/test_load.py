"""`claimflow load` against a running `claimflow dev`: claims go through and the figures are printed."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

from tests.e2e.test_dev_stack import CLI, start, stop


def test_load_drives_claims_to_closed_and_prints_the_figures(dev_env: dict[str, str], tmp_path: Path) -> None:
    process = start(dev_env, tmp_path / "dev.log")
    try:
        out = subprocess.run(
            [*CLI, "load", "--claims", "5", "--timeout", "120"],
            env=dev_env,
            capture_output=True,
            text=True,
            timeout=180,
        )
    finally:
        assert stop(process) == 0
    assert out.returncode == 0, out.stdout + out.stderr
    figures = re.search(
        r"load: 5 claims, 5 finished in [\d.]+ s: [\d.]+ claims/s; time to closed p50 [\d.]+ s, p99 [\d.]+ s",
        out.stdout,
    )
    assert figures, out.stdout
    assert "statuses: closed 5" in out.stdout, out.stdout
