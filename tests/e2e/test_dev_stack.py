"""`claimflow dev` as a user runs it: start, submit, follow to paid, Ctrl-C, nothing left, restart keeps claims."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx

from tests.domain.factories import claim_body

CLI = [sys.executable, "-m", "workers.cli"]


def start(env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("ab") as out:
        process = subprocess.Popen([*CLI, "dev"], env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    deadline = time.monotonic() + 90
    while "claimflow is running" not in log.read_text(errors="replace"):
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            raise AssertionError(f"claimflow dev did not start:\n{log.read_text(errors='replace')}")
        time.sleep(0.2)
    return process


def stop(process: subprocess.Popen[bytes]) -> int:
    process.send_signal(signal.SIGINT)  # what Ctrl-C sends
    return process.wait(timeout=60)


def token(env: dict[str, str]) -> str:
    out = subprocess.run(
        [*CLI, "token", "--role", "submitter", "--org", "e2e-lab"], env=env, check=True, capture_output=True, text=True
    )
    return out.stdout.strip()


def wait_status(api: httpx.Client, claim_id: str, status: str, timeout: float = 60) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        claim: dict[str, Any] = api.get(f"/v1/claims/{claim_id}").json()
        if claim.get("status") == status:
            return claim
        if time.monotonic() > deadline:
            raise AssertionError(f"claim is {claim.get('status')}, not {status}")
        time.sleep(0.3)


def processes_using(folder: Path) -> list[str]:
    out = subprocess.run(["ps", "-eo", "pid,args"], capture_output=True, text=True, check=True).stdout
    return [line for line in out.splitlines() if str(folder) in line and "ps -eo" not in line]


def test_dev_stack_runs_a_claim_to_paid_stops_cleanly_and_keeps_it(dev_env: dict[str, str], tmp_path: Path) -> None:
    data_dir = Path(dev_env["CLAIMFLOW_DATA_DIR"])
    stack_log = tmp_path / "first-run.log"
    process = start(dev_env, stack_log)
    try:
        output = stack_log.read_text()
        assert f"http://127.0.0.1:{dev_env['CLAIMFLOW_API_PORT']}" in output
        assert f"http://127.0.0.1:{dev_env['CLAIMFLOW_TEMPORAL_UI_PORT']}" in output
        headers = {"Authorization": f"Bearer {token(dev_env)}"}
        with httpx.Client(
            base_url=f"http://127.0.0.1:{dev_env['CLAIMFLOW_API_PORT']}", headers=headers, timeout=10
        ) as api:
            assert api.get("/readyz").json()["status"] == "ready"
            assert api.get("/docs").status_code == 200
            response = api.post("/v1/claims", json=claim_body(), headers={"Idempotency-Key": "e2e-1"})
            assert response.status_code == 202, response.text
            claim_id = response.json()["claim_id"]
            claim = wait_status(api, claim_id, "closed")
            assert claim["payment"]["amount"] == "45.00"
        listed = subprocess.run(
            [
                str(Path(sys.executable).parent / "temporal"),
                "workflow",
                "list",
                "--address",
                dev_env["CLAIMFLOW_TEMPORAL_ADDRESS"],
                "--query",
                'ClaimStatus = "closed"',
                "--output",
                "json",
            ],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        assert f"claim-{claim_id}" in listed
    finally:
        code = stop(process)
    assert code == 0, stack_log.read_text()
    assert processes_using(data_dir) == []

    process = start(dev_env, tmp_path / "second-run.log")
    try:
        with httpx.Client(
            base_url=f"http://127.0.0.1:{dev_env['CLAIMFLOW_API_PORT']}", headers=headers, timeout=10
        ) as api:
            again = api.get(f"/v1/claims/{claim_id}").json()
            assert again["status"] == "closed"
            replay = api.post("/v1/claims", json=claim_body(), headers={"Idempotency-Key": "e2e-1"})
            assert replay.json()["claim_id"] == claim_id
    finally:
        assert stop(process) == 0
    assert processes_using(data_dir) == []
