"""The real thing: `python -m sandbox` on a free port, real HTTP, a real webhook receiver, a restart."""

from __future__ import annotations

import hashlib
import hmac
import json
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

import httpx

from tests.sandbox.sandbox_testkit import assert_line_invariants, claim_body, free_port

REPO = Path(__file__).resolve().parents[2]
SECRET = "server-test-secret"


class Captured:
    """Webhooks the receiver got: (headers, raw body)."""

    def __init__(self) -> None:
        self.items: list[tuple[dict[str, str], bytes]] = []
        self.arrived = threading.Event()


@contextmanager
def webhook_receiver() -> Iterator[tuple[str, Captured]]:
    """A tiny HTTP server on a free port that records every POST."""
    captured = Captured()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            captured.items.append(({k.lower(): v for k, v in self.headers.items()}, body))
            captured.arrived.set()
            self.send_response(204)
            self.end_headers()

        def log_message(self, format: str, *args: object) -> None:
            return None

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/hooks/sandbox", captured
    finally:
        server.shutdown()
        server.server_close()


@contextmanager
def sandbox_server(data: Path, step_seconds: float = 0.0) -> Iterator[str]:
    """`python -m sandbox` in a subprocess; yields its base URL once /healthz answers."""
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "sandbox", "--host", "127.0.0.1", "--port", str(port), "--data", str(data),
         "--step-seconds", str(step_seconds), "--webhook-secret", SECRET, "--log-level", "warning"],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 15
        while True:
            assert process.poll() is None, process.communicate()[0].decode()
            try:
                if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "the sandbox did not come up"
            time.sleep(0.05)
        yield url
    finally:
        process.terminate()
        output = process.communicate(timeout=15)[0].decode()
        # uvicorn shuts down gracefully (lifespan included), then re-raises SIGTERM as its exit status.
        assert process.returncode in (0, -signal.SIGTERM), output
        assert "Traceback" not in output, output


def test_real_server_http_webhook_and_restart(tmp_path: Path) -> None:
    data = tmp_path / "sandbox.db"
    with webhook_receiver() as (callback_url, captured):
        with sandbox_server(data, step_seconds=0.05) as url, httpx.Client(base_url=url, timeout=5) as client:
            body = claim_body("PART-9", claim_id="CLM-REAL", callback_url=callback_url)
            first = client.post("/v1/claims", json=body, headers={"Idempotency-Key": "real-1"})
            assert first.status_code == 201
            pcid = first.json()["payer_claim_id"]
            replay = client.post("/v1/claims", json=body, headers={"Idempotency-Key": "real-1"})
            assert replay.status_code == 200 and replay.content == first.content
            assert client.post("/v1/claims", json=body).status_code == 400

            assert captured.arrived.wait(10), "no webhook arrived"
            headers, raw = captured.items[0]
            signed = f"{headers['x-sandbox-timestamp']}.{urlsplit(callback_url).path}.".encode() + raw
            assert (
                headers["x-sandbox-signature"] == "v1=" + hmac.new(SECRET.encode(), signed, hashlib.sha256).hexdigest()
            )
            assert json.loads(raw) == {"payer_claim_id": pcid, "claim_id": "CLM-REAL", "category": "F1"}

            answer = client.get(f"/v1/claims/{pcid}/status").json()
            assert answer["category"] == "F1"  # wall time has moved it past A2 and P1
            assert_line_invariants(answer["lines"])
            paid = answer["lines"][0]["paid"]
            assert paid == "36.00"
            payment = {"payer_claim_id": pcid, "claim_id": "CLM-REAL", "amount": paid}
            issued = client.post("/v1/payments", json=payment, headers={"Idempotency-Key": "pay-real"})
            assert issued.status_code == 201

            client.post("/_sandbox/faults", json={"lost_reply_rate": 1.0})
            lost = client.post("/v1/claims", json={**body, "claim_id": "CLM-LOST"}, headers={"Idempotency-Key": "lost"})
            assert lost.status_code == 500
            client.post("/_sandbox/faults", json={})
            deadline = time.monotonic() + 10
            while len(captured.items) < 2 and time.monotonic() < deadline:
                time.sleep(0.05)
            time.sleep(0.3)
            announced = sorted(json.loads(raw)["claim_id"] for _, raw in captured.items)
            assert announced == ["CLM-LOST", "CLM-REAL"]  # once per claim, the lost reply's claim included

        with sandbox_server(data, step_seconds=0.05) as url, httpx.Client(base_url=url, timeout=5) as client:
            book = client.get("/_sandbox/ledger").json()
            assert book["submissions_applied"] == 2 and book["payments_applied"] == 1
            entries = {c["claim_id"]: c for c in book["claims"]}
            assert entries["CLM-REAL"]["paid_amount"] == "36.00"
            assert entries["CLM-REAL"]["webhook"]["state"] == "delivered"
            assert client.get(f"/v1/claims/{pcid}/status").json()["category"] == "F1"
            recovered = client.post(
                "/v1/claims", json={**body, "claim_id": "CLM-LOST"}, headers={"Idempotency-Key": "lost"}
            )
            assert recovered.status_code == 200
            assert recovered.json()["payer_claim_id"] == entries["CLM-LOST"]["payer_claim_id"]
            again = client.post("/v1/payments", json=payment, headers={"Idempotency-Key": "pay-real"})
            assert again.status_code == 200 and again.json() == issued.json()
            time.sleep(0.4)
            assert len(captured.items) == 2  # a restart does not announce a delivered claim again
