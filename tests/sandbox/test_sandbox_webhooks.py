"""Webhooks in process: signed, once per claim, retried with back-off, given up after five retries."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from sandbox import webhooks
from sandbox.config import SandboxConfig
from tests.sandbox.sandbox_testkit import claim_body, ledger, open_sandbox, submit

SECRET = "test-secret"
CALLBACK = "http://engine.test/webhooks/sandbox"


class Receiver:
    """A fake engine endpoint that fails its first `failures` deliveries."""

    def __init__(self, failures: int = 0) -> None:
        self.failures = failures
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if len(self.requests) <= self.failures:
            return httpx.Response(503)
        return httpx.Response(204)

    @property
    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self)


async def wait_for(predicate: Callable[[], bool], timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out waiting"
        await asyncio.sleep(0.02)


def config() -> SandboxConfig:
    return SandboxConfig(step_seconds=0.05, webhook_secret=SECRET)


async def test_a_settled_claim_is_announced_once_with_a_valid_signature() -> None:
    receiver = Receiver()
    async with open_sandbox(config(), receiver.transport) as client:
        pcid = (await submit(client, claim_body("DENY-1", callback_url=CALLBACK))).json()["payer_claim_id"]
        await wait_for(lambda: len(receiver.requests) == 1)
        await asyncio.sleep(0.5)  # a few more ticks: still one delivery
        assert len(receiver.requests) == 1
        request = receiver.requests[0]
        assert str(request.url) == CALLBACK and request.method == "POST"
        timestamp = request.headers["X-Sandbox-Timestamp"]
        assert abs(int(timestamp) - time.time()) < 60
        signed = f"{timestamp}.{request.url.path}.".encode() + request.content
        expected = hmac.new(SECRET.encode(), signed, hashlib.sha256).hexdigest()
        assert request.headers["X-Sandbox-Signature"] == f"v1={expected}"
        assert json.loads(request.content) == {"payer_claim_id": pcid, "claim_id": "CLM-1", "category": "F2"}
        (entry,) = (await ledger(client))["claims"]
        assert entry["webhook"] == {"state": "delivered", "attempts": 1}


async def test_the_webhook_waits_for_the_settled_step() -> None:
    receiver = Receiver()
    async with open_sandbox(config(), receiver.transport) as client:
        started = time.monotonic()
        await submit(client, claim_body("PEND-1", callback_url=CALLBACK), key="a")
        await submit(client, claim_body("REJECT-1", claim_id="CLM-2", callback_url=CALLBACK), key="b")
        await submit(client, claim_body("NEVER-1", claim_id="CLM-3", callback_url=CALLBACK), key="c")
        await submit(client, claim_body("M-1", claim_id="CLM-4"), key="d")  # no callback_url
        await wait_for(lambda: len(receiver.requests) == 2)
        categories = {json.loads(r.content)["claim_id"]: json.loads(r.content)["category"] for r in receiver.requests}
        assert categories == {"CLM-1": "P3", "CLM-2": "A7"}
        assert time.monotonic() - started >= 0.1  # P3 is step 2: at least two steps of 0.05 s
        await asyncio.sleep(0.4)
        assert len(receiver.requests) == 2  # NEVER never settles
        states = {c["claim_id"]: c["webhook"]["state"] for c in (await ledger(client))["claims"]}
        assert states == {"CLM-1": "delivered", "CLM-2": "delivered", "CLM-3": "none", "CLM-4": "none"}


async def test_no_webhooks_without_wall_time_steps() -> None:
    receiver = Receiver()
    async with open_sandbox(SandboxConfig(), receiver.transport) as client:
        await submit(client, claim_body("REJECT-1", callback_url=CALLBACK))
        await asyncio.sleep(0.3)
        assert receiver.requests == []


async def test_failed_deliveries_are_retried_with_back_off(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(webhooks, "TICK_SECONDS", 0.02)
    receiver = Receiver(failures=2)
    async with open_sandbox(config(), receiver.transport) as client:
        await submit(client, claim_body("REJECT-1", callback_url=CALLBACK))
        await wait_for(lambda: len(receiver.requests) == 3)
        await asyncio.sleep(0.3)
        assert len(receiver.requests) == 3
        assert len({r.content for r in receiver.requests}) == 1
        (entry,) = (await ledger(client))["claims"]
        assert entry["webhook"] == {"state": "delivered", "attempts": 3}


async def test_delivery_gives_up_after_five_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(webhooks, "BACKOFF_SECONDS", (0.01,) * webhooks.MAX_RETRIES)
    monkeypatch.setattr(webhooks, "TICK_SECONDS", 0.02)

    def unreachable(request: httpx.Request) -> httpx.Response:
        receiver.requests.append(request)
        raise httpx.ConnectError("refused", request=request)

    receiver = Receiver()
    async with open_sandbox(config(), httpx.MockTransport(unreachable)) as client:
        await submit(client, claim_body("REJECT-1", callback_url=CALLBACK))
        await wait_for(lambda: len(receiver.requests) == 6)
        await asyncio.sleep(0.5)
        assert len(receiver.requests) == 6  # one attempt and five retries
        (entry,) = (await ledger(client))["claims"]
        assert entry["webhook"] == {"state": "failed", "attempts": 6}


async def test_a_pending_webhook_survives_a_restart(tmp_path: Path) -> None:
    data = SandboxConfig(data_path=tmp_path / "sandbox.db", step_seconds=0.1, webhook_secret=SECRET)
    receiver = Receiver()
    async with open_sandbox(data, receiver.transport) as client:
        await submit(client, claim_body("PEND-1", callback_url=CALLBACK))  # settles (P3) at step 2: 0.2 s
    assert receiver.requests == []
    async with open_sandbox(data, receiver.transport) as client:
        await wait_for(lambda: len(receiver.requests) == 1)
        assert json.loads(receiver.requests[0].content)["category"] == "P3"
        (entry,) = (await ledger(client))["claims"]
        assert entry["webhook"]["state"] == "delivered"
