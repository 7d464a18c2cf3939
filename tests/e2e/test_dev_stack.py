"""`claimflow dev` as a user runs it: every README curl line, Ctrl-C within 10 s, nothing left, a restart keeps every claim."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx

from tests.domain.factories import claim_body
from tests.e2e.readme import ReadmeWalk, api_commands

CLI = [sys.executable, "-m", "workers.cli"]
#: The issue's bound on Ctrl-C, whatever is in flight.
STOP_SECONDS = 10.0


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


def processes_using(folder: Path) -> list[str]:
    out = subprocess.run(["ps", "-eo", "pid,args"], capture_output=True, text=True, check=True).stdout
    return [line for line in out.splitlines() if str(folder) in line and "ps -eo" not in line]


class Walk(ReadmeWalk):
    """The README's lines for one stack: a submitter token, claims by sandbox scenario, decisions as the assignee."""

    def __init__(self, env: dict[str, str]) -> None:
        super().__init__(env, api_commands())
        self.token = self.assign(self.command("TOKEN="), "TOKEN")

    def submit(self, key: str, member_id: str) -> str:
        command = self.command("-X POST localhost:8000/v1/claims ", "Idempotency-Key")
        assert "demo-0001" in command and "M123456" in command
        answer = self.json(command.replace("demo-0001", key).replace("M123456", member_id), TOKEN=self.token)
        assert answer["workflow_id"] == f"claim-{answer['claim_id']}", answer
        claim_id: str = answer["claim_id"]
        return claim_id

    def read(self, claim_id: str) -> dict[str, Any]:
        claim: dict[str, Any] = self.json(
            self.command("localhost:8000/v1/claims/$CLAIM_ID -H"), TOKEN=self.token, CLAIM_ID=claim_id
        )
        return claim

    def x12_837(self, claim_id: str) -> str:
        """The README's 837P download line, as the submitter."""
        return self.run(self.command("/x12/837"), TOKEN=self.token, CLAIM_ID=claim_id)

    def wait_for(self, claim_id: str, *statuses: str, timeout: float = 90) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            claim = self.read(claim_id)
            if claim.get("status") in statuses:
                return claim
            if time.monotonic() > deadline:
                raise AssertionError(f"claim {claim_id} is {claim.get('status')}, not {statuses}")
            time.sleep(0.5)

    def decide(self, claim_id: str, action: str) -> dict[str, Any]:
        """The README's decision line for `action`, sent as the claim's assigned adjuster (the README says so)."""
        claim = self.wait_for(claim_id, "in_review")
        adjuster = claim["assigned_adjuster"]
        assert adjuster, claim
        mint = self.command("ADJ=")
        assert "--sub alice" in mint
        adj = self.assign(mint.replace("--sub alice", f"--sub {adjuster}"), "ADJ")
        answer: dict[str, Any] = self.json(
            self.command("/decision", f'"action": "{action}"'), ADJ=adj, CLAIM_ID=claim_id
        )
        return answer

    def inform(self, claim_id: str) -> dict[str, Any]:
        answer: dict[str, Any] = self.json(self.command("/information"), TOKEN=self.token, CLAIM_ID=claim_id)
        return answer

    def cancel(self, claim_id: str) -> dict[str, Any]:
        answer: dict[str, Any] = self.json(self.command("/cancel"), TOKEN=self.token, CLAIM_ID=claim_id)
        return answer

    def as_adjuster(self, adjuster: str) -> str:
        """The README's adjuster token line, minted for `adjuster` instead of alice."""
        return self.assign(self.command("ADJ=").replace("--sub alice", f"--sub {adjuster}"), "ADJ")

    def my_queue(self, adjuster: str) -> dict[str, Any]:
        page: dict[str, Any] = self.json(self.command("/v1/queues/mine"), ADJ=self.as_adjuster(adjuster))
        return page

    def supervisor(self) -> str:
        return self.assign(self.command("SUP="), "SUP")

    def every_queue(self) -> dict[str, Any]:
        overview: dict[str, Any] = self.json(self.command("/v1/queues -H"), SUP=self.supervisor())
        return overview

    def reassign(self, claim_id: str, to: str) -> dict[str, Any]:
        line = self.command("/reassign")
        assert '"adjuster_id": "bob"' in line
        answer: dict[str, Any] = self.json(
            line.replace('"adjuster_id": "bob"', f'"adjuster_id": "{to}"'), SUP=self.supervisor(), CLAIM_ID=claim_id
        )
        return answer

    def list_in_review(self) -> dict[str, Any]:
        page: dict[str, Any] = self.json(self.command("v1/claims?status=in_review"), TOKEN=self.token)
        return page


def test_readme_curl_lines_on_dev_stack_reach_every_end_state_then_ctrl_c_and_restart(
    dev_env: dict[str, str], tmp_path: Path
) -> None:
    data_dir = Path(dev_env["CLAIMFLOW_DATA_DIR"])
    stack_log = tmp_path / "first-run.log"
    process = start(dev_env, stack_log)
    try:
        output = stack_log.read_text()
        assert f"http://127.0.0.1:{dev_env['CLAIMFLOW_API_PORT']}" in output
        assert f"http://127.0.0.1:{dev_env['CLAIMFLOW_TEMPORAL_UI_PORT']}" in output
        walk = Walk(dev_env)
        # Every scenario is submitted first, so the claims move side by side, as a user's would.
        claims = {
            "paid": walk.submit("readme-paid", "M123456"),
            "approve": walk.submit("readme-approve", "DENY123456"),
            "partial": walk.submit("readme-partial", "PART123456"),
            "deny": walk.submit("readme-deny", "DENY223456"),
            "info": walk.submit("readme-info", "DENY323456"),
            "cancel": walk.submit("readme-cancel", "DENY423456"),
            "pending": walk.submit("readme-pending", "NEVER123456"),
        }
        assert walk.submit("readme-paid", "M123456") == claims["paid"]  # the same key and body: the same claim
        walk.wait_for(claims["paid"], "submitted", "pending", "approved", "paid", "closed")  # snapshotted
        interchange = walk.x12_837(claims["paid"])
        segments = interchange.split("~\n")
        assert segments[0].startswith("ISA*") and any(s.startswith("CLM*") for s in segments), interchange[:200]
        assert "SV1*HC:80053*45*UN*1***1" in segments
        assert walk.x12_837(claims["paid"]) == interchange  # generated once: the same bytes again

        assert walk.wait_for(claims["partial"], "in_review")["claim"]["patient"]["member_id"] == "PART123456"
        in_review = {item["claim_id"] for item in walk.list_in_review()["data"]}
        assert claims["partial"] in in_review

        assert walk.decide(claims["approve"], "approve")["status"] == "approved"
        assert walk.decide(claims["partial"], "partial")["status"] == "partially_approved"
        assert walk.decide(claims["deny"], "deny")["status"] == "denied"
        assert walk.decide(claims["info"], "request_info")["status"] == "info_requested"
        assert walk.inform(claims["info"])["status"] == "in_review"
        assert walk.decide(claims["info"], "approve")["status"] == "approved"
        owner = walk.wait_for(claims["cancel"], "in_review")["assigned_adjuster"]
        queued = {item["claim_id"]: item for item in walk.my_queue(owner)["data"]}
        assert queued[claims["cancel"]]["review_due_at"] and queued[claims["cancel"]]["priority"] in {"low", "normal"}
        watched = {row["adjuster_id"]: row for row in walk.every_queue()["adjusters"]}
        assert watched[owner]["in_review"] >= 1
        other = "bob" if owner == "alice" else "alice"
        assert walk.reassign(claims["cancel"], other)["assigned_adjuster"] == other
        assert claims["cancel"] in {item["claim_id"] for item in walk.my_queue(other)["data"]}
        assert walk.cancel(claims["cancel"])["status"] == "cancelled"
        walk.wait_for(claims["pending"], "pending")
        refused = walk.cancel(claims["pending"])  # the processor has it: a void claim withdraws it, not a cancel
        assert (refused["status"], refused["code"]) == (409, "not_cancellable"), refused

        end_states = {
            "paid": ("closed", "45.00"),
            "approve": ("closed", "45.00"),
            "partial": ("closed", "36.00"),
            "deny": ("denied", None),
            "info": ("closed", "45.00"),
            "cancel": ("cancelled", None),
        }
        for name, (status, paid) in end_states.items():
            claim = walk.wait_for(claims[name], status)
            assert (claim["payment"] or {}).get("amount") == paid, (name, claim["payment"])
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
        assert f"claim-{claims['paid']}" in listed

        # Ctrl-C with claims in flight: three just submitted, one polling for ever.
        in_flight = [walk.submit(f"readme-in-flight-{n}", f"SLOW{n}23456") for n in range(3)]
        in_flight.append(walk.submit("readme-in-flight-never", "NEVER223456"))
    finally:
        began = time.monotonic()
        code = stop(process)
        took = time.monotonic() - began
    assert code == 0, stack_log.read_text()
    assert took < STOP_SECONDS, f"Ctrl-C took {took:.1f}s"
    assert processes_using(data_dir) == []

    process = start(dev_env, tmp_path / "second-run.log")
    try:
        walk = Walk(dev_env)
        for name, (status, _) in end_states.items():
            assert walk.read(claims[name])["status"] == status, name
        for claim_id in in_flight:
            walk.read(claim_id)  # every claim is still there
        assert walk.submit("readme-paid", "M123456") == claims["paid"]
    finally:
        assert stop(process) == 0
    assert processes_using(data_dir) == []


def test_second_ctrl_c_stops_the_dev_stack_at_once_and_leaves_no_process(
    dev_env: dict[str, str], tmp_path: Path
) -> None:
    data_dir = Path(dev_env["CLAIMFLOW_DATA_DIR"])
    process = start(dev_env, tmp_path / "dev.log")
    headers = {"Authorization": f"Bearer {token(dev_env)}"}
    with httpx.Client(base_url=f"http://127.0.0.1:{dev_env['CLAIMFLOW_API_PORT']}", headers=headers) as api:
        assert api.post("/v1/claims", json=claim_body(), headers={"Idempotency-Key": "twice"}).status_code == 202
    began = time.monotonic()
    process.send_signal(signal.SIGINT)
    time.sleep(0.05)
    process.send_signal(signal.SIGINT)
    code = process.wait(timeout=30)
    took = time.monotonic() - began
    assert code == 130
    assert took < 3, f"a second Ctrl-C took {took:.1f}s"
    assert processes_using(data_dir) == []
