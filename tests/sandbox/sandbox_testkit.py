"""Helpers for the sandbox tests: claim bodies, submissions and 835 line checks."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Any

import httpx

from sandbox.app import create_app
from sandbox.config import SandboxConfig
from tests.support.served import served
from tests.support.stack import free_port as free_port

BASE_URL = "http://sandbox.test"


@contextlib.asynccontextmanager
async def open_sandbox(
    config: SandboxConfig | None = None, transport: httpx.AsyncBaseTransport | None = None
) -> AsyncIterator[httpx.AsyncClient]:
    """An in-process sandbox with its lifespan running, and a client talking to it."""
    app = create_app(config or SandboxConfig(), webhook_transport=transport)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE_URL) as client,
    ):
        yield client


@contextlib.asynccontextmanager
async def served_sandbox(config: SandboxConfig | None = None) -> AsyncIterator[httpx.AsyncClient]:
    """The sandbox behind a real uvicorn socket (in this event loop), and a client for it: for what only a real
    connection shows (a dropped connection, a client that goes away)."""
    async with (
        served(create_app(config or SandboxConfig())) as base_url,
        httpx.AsyncClient(base_url=base_url, timeout=10) as client,
    ):
        yield client


def line(number: int = 1, charge: str = "45.00", code: str = "80053") -> dict[str, Any]:
    """One claim line."""
    return {
        "line_number": number,
        "procedure_code": code,
        "charge": charge,
        "units": 1,
        "service_date": "2026-11-20",
    }


def claim_body(
    member_id: str = "M123",
    claim_id: str = "CLM-1",
    charges: tuple[str, ...] = ("45.00",),
    callback_url: str | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """A valid claim body whose total is the sum of its line charges."""
    lines = [line(i + 1, charge) for i, charge in enumerate(charges)]
    total = sum((Decimal(c) for c in charges), Decimal("0.00"))
    return {
        "claim_id": claim_id,
        "patient_control_number": "PCN0001",
        "payer_id": "SANDBOX1",
        "member_id": member_id,
        "total_charge": str(total),
        "frequency_code": "1",
        "lines": lines,
        "callback_url": callback_url,
        **extra,
    }


async def submit(client: httpx.AsyncClient, body: dict[str, Any], key: str = "key-1") -> httpx.Response:
    """POST /v1/claims under an idempotency key."""
    return await client.post("/v1/claims", json=body, headers={"Idempotency-Key": key})


async def status(client: httpx.AsyncClient, payer_claim_id: str) -> dict[str, Any]:
    """GET the status (asserting 200) and return its JSON."""
    response = await client.get(f"/v1/claims/{payer_claim_id}/status")
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()
    return answer


async def ledger(client: httpx.AsyncClient) -> dict[str, Any]:
    """The sandbox ledger."""
    response = await client.get("/_sandbox/ledger")
    assert response.status_code == 200
    answer: dict[str, Any] = response.json()
    return answer


def assert_line_invariants(lines: list[dict[str, Any]]) -> None:
    """paid + adjustments == billed, money is two-place strings, allowed is between paid and billed."""
    for remit in lines:
        for field in ("billed", "allowed", "paid"):
            assert isinstance(remit[field], str) and Decimal(remit[field]).as_tuple().exponent == -2, remit
        billed, allowed, paid = (Decimal(remit[f]) for f in ("billed", "allowed", "paid"))
        adjusted = sum((Decimal(a["amount"]) for a in remit["adjustments"]), Decimal(0))
        assert paid + adjusted == billed, remit
        assert paid <= allowed <= billed, remit
        for adjustment in remit["adjustments"]:
            assert adjustment["group_code"] in {"CO", "PR", "OA", "PI"}
            assert isinstance(adjustment["amount"], str)
