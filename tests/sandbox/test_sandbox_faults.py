"""Fault injection: errors, lost replies, slow answers, timeouts, and what the ledger makes of them."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx

from tests.sandbox.sandbox_testkit import claim_body, ledger, status, submit


async def set_faults(client: httpx.AsyncClient, **settings: object) -> dict[str, Any]:
    response = await client.post("/_sandbox/faults", json=settings)
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()
    return answer


async def test_fault_settings_round_trip(client: httpx.AsyncClient) -> None:
    defaults = (await client.get("/_sandbox/faults")).json()
    assert defaults == {
        "error_rate": 0.0,
        "lost_reply_rate": 0.0,
        "slow_rate": 0.0,
        "slow_seconds": 0.5,
        "timeout_rate": 0.0,
        "timeout_seconds": 30.0,
        "dropped_reply_rate": 0.0,
        "held_reply_rate": 0.0,
        "held_reply_seconds": 5.0,
        "endpoints": None,
        "max_per_key": None,
        "seed": None,
    }
    answer = await set_faults(client, error_rate=0.25, seed=3)
    assert answer["error_rate"] == 0.25 and answer["seed"] == 3
    assert (await client.get("/_sandbox/faults")).json() == answer
    # Omitted fields are off: the POST replaces the settings.
    assert (await set_faults(client, slow_rate=0.5))["error_rate"] == 0.0
    bad = await client.post("/_sandbox/faults", json={"error_rate": 2})
    assert bad.status_code == 422 and bad.json()["fields"][0]["field"] == "error_rate"


async def test_error_answers_500_before_doing_anything(client: httpx.AsyncClient) -> None:
    await set_faults(client, error_rate=1.0)
    response = await submit(client, claim_body())
    assert response.status_code == 500 and response.json()["error"] == "injected_error"
    eligibility = await client.post("/v1/eligibility", json={})
    assert eligibility.status_code == 500
    book = await ledger(client)  # /_sandbox/* is never faulted
    assert book["submission_requests"] == 0 and book["submissions_applied"] == 0 and book["claims"] == []
    assert book["faults_injected"] == 2 and book["faults_by_kind"]["error"] == 2
    assert (await client.get("/healthz")).status_code == 200


async def test_lost_reply_does_the_work_once_and_the_key_recovers_the_answer(client: httpx.AsyncClient) -> None:
    body = claim_body()
    await set_faults(client, lost_reply_rate=1.0)
    lost = await submit(client, body, key="k-lost")
    assert lost.status_code == 500 and lost.json()["error"] == "injected_lost_reply"
    book = await ledger(client)
    assert book["submissions_applied"] == 1 and book["faults_by_kind"]["lost_reply"] == 1
    stored_pcid = book["claims"][0]["payer_claim_id"]
    # The client retries with the same key through the still-lossy sandbox: still applied once.
    assert (await submit(client, body, key="k-lost")).status_code == 500
    await set_faults(client)
    replay = await submit(client, body, key="k-lost")
    assert replay.status_code == 200
    assert replay.json()["payer_claim_id"] == stored_pcid and replay.json()["category"] == "A1"
    book = await ledger(client)
    assert book["submissions_applied"] == 1 and len(book["claims"]) == 1
    assert book["submission_requests"] == 3 and book["faults_injected"] == 2


async def test_lost_payment_reply_pays_once(client: httpx.AsyncClient) -> None:
    pcid = (await submit(client, claim_body())).json()["payer_claim_id"]
    body = {
        "payer_claim_id": pcid,
        "claim_id": "CLM-1",
        "amount": "45.00",
        "lines": [{"line_number": 1, "amount": "45.00"}],
    }
    await set_faults(client, lost_reply_rate=1.0)
    lost = await client.post("/v1/payments", json=body, headers={"Idempotency-Key": "pay-lost"})
    assert lost.status_code == 500
    await set_faults(client)
    replay = await client.post("/v1/payments", json=body, headers={"Idempotency-Key": "pay-lost"})
    assert replay.status_code == 200 and replay.json()["status"] == "issued"
    (entry,) = (await ledger(client))["claims"]
    assert entry["payments_applied"] == 1 and entry["paid_amount"] == "45.00"


async def test_lost_status_reply_still_advances_the_claim(client: httpx.AsyncClient) -> None:
    pcid = (await submit(client, claim_body())).json()["payer_claim_id"]
    await set_faults(client, lost_reply_rate=1.0)
    assert (await client.get(f"/v1/claims/{pcid}/status")).status_code == 500
    await set_faults(client)
    assert (await status(client, pcid))["category"] == "P1"  # the lost answer was A2


async def test_slow_answers_normally_after_a_delay(client: httpx.AsyncClient) -> None:
    await set_faults(client, slow_rate=1.0, slow_seconds=0.2)
    started = time.perf_counter()
    response = await submit(client, claim_body())
    assert time.perf_counter() - started >= 0.2
    assert response.status_code == 201 and response.json()["category"] == "A1"
    book = await ledger(client)
    assert book["submissions_applied"] == 1 and book["faults_by_kind"]["slow"] == 1


async def test_timeout_answers_504_without_work_and_without_blocking(client: httpx.AsyncClient) -> None:
    await set_faults(client, timeout_rate=1.0, timeout_seconds=0.3)
    pending = asyncio.create_task(submit(client, claim_body()))
    await asyncio.sleep(0.05)
    health = await client.get("/healthz")  # the event loop is free while the timeout sleeps
    assert health.status_code == 200
    assert not pending.done()
    response = await pending
    assert response.status_code == 504 and response.json()["error"] == "injected_timeout"
    book = await ledger(client)
    assert book["submission_requests"] == 0 and book["submissions_applied"] == 0
    assert book["faults_by_kind"]["timeout"] == 1


async def test_rates_are_probabilities_and_a_seed_repeats_them(client: httpx.AsyncClient) -> None:
    async def pattern() -> list[int]:
        await set_faults(client, error_rate=0.5, seed=42)
        codes = [(await client.post("/v1/eligibility", json={})).status_code for _ in range(40)]
        await set_faults(client)
        return codes

    first, second = await pattern(), await pattern()
    assert first == second
    assert 5 < first.count(500) < 35 and set(first) == {422, 500}


async def test_reset_clears_faults(client: httpx.AsyncClient) -> None:
    await set_faults(client, error_rate=1.0)
    assert (await client.post("/_sandbox/reset")).status_code == 200
    assert (await client.get("/_sandbox/faults")).json()["error_rate"] == 0.0
    assert (await submit(client, claim_body())).status_code == 201
