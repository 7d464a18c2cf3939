"""Sandbox controls: health, ledger, reset, persistence across restarts, and speed."""

from __future__ import annotations

from pathlib import Path

import httpx

from sandbox.config import SandboxConfig
from tests.sandbox.sandbox_testkit import claim_body, ledger, open_sandbox, status, submit


async def test_healthz(client: httpx.AsyncClient) -> None:
    response = await client.get("/healthz")
    assert response.status_code == 200 and response.json() == {"status": "ok"}


async def test_ledger_lists_every_payer_claim_and_filters_by_claim_id(client: httpx.AsyncClient) -> None:
    for n in range(3):
        await submit(client, claim_body(claim_id=f"CLM-{n}"), key=f"k-{n}")
    book = await ledger(client)
    assert [c["claim_id"] for c in book["claims"]] == ["CLM-0", "CLM-1", "CLM-2"]
    assert all(c["submissions_applied"] == 1 and c["payments_applied"] == 0 for c in book["claims"])
    assert all(c["paid_amount"] == "0.00" and c["category"] == "A1" for c in book["claims"])
    only = (await client.get("/_sandbox/ledger", params={"claim_id": "CLM-1"})).json()
    assert [c["idempotency_key"] for c in only["claims"]] == ["k-1"]


async def test_reset_forgets_everything(client: httpx.AsyncClient) -> None:
    pcid = (await submit(client, claim_body())).json()["payer_claim_id"]
    await status(client, pcid)
    response = await client.post("/_sandbox/reset")
    assert response.status_code == 200
    book = await ledger(client)
    assert book["claims"] == []
    assert book["submission_requests"] == book["submissions_applied"] == book["status_requests"] == 0
    assert (await client.get(f"/v1/claims/{pcid}/status")).status_code == 404
    # The key is free again after a reset.
    assert (await submit(client, claim_body(charges=("1.00",)))).status_code == 201


async def test_a_restarted_sandbox_with_a_data_file_remembers(tmp_path: Path) -> None:
    config = SandboxConfig(data_path=tmp_path / "sandbox.db")
    body = claim_body("PART-1")
    async with open_sandbox(config) as client:
        first = await submit(client, body)
        pcid = first.json()["payer_claim_id"]
        assert [(await status(client, pcid))["category"] for _ in range(2)] == ["A2", "P1"]
    async with open_sandbox(config) as client:
        again = await submit(client, body)
        assert again.status_code == 200 and again.content == first.content
        answer = await status(client, pcid)
        assert answer["category"] == "F1" and answer["lines"][0]["paid"] == "36.00"
        book = await ledger(client)
        assert book["submissions_applied"] == 1 and book["claims"][0]["status_requests"] == 3
    async with open_sandbox(SandboxConfig()) as client:  # in memory: a fresh payer
        assert (await client.get(f"/v1/claims/{pcid}/status")).status_code == 404
