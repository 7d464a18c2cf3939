"""Faults after the work: the sandbox has applied the submission or payment (committed in its ledger), then the
reply is dropped (connection closed, no answer) or held back; a retry under the same Idempotency-Key finds the
effect there exactly once and gets the stored answer. Plus what scopes them: endpoints, max_per_key, holds."""

from __future__ import annotations

import asyncio
import random
import time
from typing import Any

import httpx
import pytest

from sandbox.faults import ReplyDropped
from tests.sandbox.sandbox_testkit import claim_body, ledger, served_sandbox, status, submit


async def set_faults(client: httpx.AsyncClient, **settings: object) -> dict[str, Any]:
    response = await client.post("/_sandbox/faults", json=settings)
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()
    return answer


async def holds(client: httpx.AsyncClient) -> list[dict[str, Any]]:
    response = await client.get("/_sandbox/holds")
    assert response.status_code == 200, response.text
    answer: list[dict[str, Any]] = response.json()["holds"]
    return answer


async def wait_hold(client: httpx.AsyncClient, state: str, timeout: float = 5, **match: object) -> dict[str, Any]:
    """The first hold in `state` whose fields match, waiting for it."""
    async with asyncio.timeout(timeout):
        while True:
            for hold in await holds(client):
                if hold["state"] == state and all(hold[k] == v for k, v in match.items()):
                    return hold
            await asyncio.sleep(0.02)


def payment_body(pcid: str, claim_id: str = "CLM-1", amount: str = "45.00") -> dict[str, Any]:
    return {
        "payer_claim_id": pcid,
        "claim_id": claim_id,
        "amount": amount,
        "lines": [{"line_number": 1, "amount": amount}],
    }


async def pay(client: httpx.AsyncClient, body: dict[str, Any], key: str) -> httpx.Response:
    return await client.post("/v1/payments", json=body, headers={"Idempotency-Key": key})


# -- dropped reply: the connection closes without an answer ----------------------------------------------


async def test_dropped_submission_reply_closes_the_connection_and_the_key_recovers_it() -> None:
    async with served_sandbox() as client:
        body = claim_body("PART-1")
        await set_faults(client, dropped_reply_rate=1.0, endpoints=["submit"])
        with pytest.raises(httpx.RemoteProtocolError, match="without sending a response"):
            await submit(client, body, key="k-drop")
        book = await ledger(client)
        assert book["submissions_applied"] == 1 and book["faults_by_kind"]["dropped_reply"] == 1
        [entry] = book["claims"]
        assert entry["claim_id"] == "CLM-1" and entry["submission_replays"] == 0
        # Retried under the same key through the same fault: applied still once, the reply dropped again.
        with pytest.raises(httpx.RemoteProtocolError):
            await submit(client, body, key="k-drop")
        await set_faults(client)
        replay = await submit(client, body, key="k-drop")
        assert replay.status_code == 200 and replay.json()["payer_claim_id"] == entry["payer_claim_id"]
        book = await ledger(client)
        assert book["submissions_applied"] == 1 and len(book["claims"]) == 1
        assert book["claims"][0]["submission_replays"] == 2 and book["faults_by_kind"]["dropped_reply"] == 2


async def test_dropped_payment_reply_pays_once() -> None:
    async with served_sandbox() as client:
        pcid = (await submit(client, claim_body())).json()["payer_claim_id"]
        await set_faults(client, dropped_reply_rate=1.0, endpoints=["pay"])
        assert (await status(client, pcid))["category"] == "A2"  # another endpoint: not faulted
        with pytest.raises(httpx.RemoteProtocolError):
            await pay(client, payment_body(pcid), "pay-drop")
        [entry] = (await ledger(client))["claims"]
        assert entry["payments_applied"] == 1 and entry["paid_amount"] == "45.00"
        await set_faults(client)
        replay = await pay(client, payment_body(pcid), "pay-drop")
        assert replay.status_code == 200 and replay.json()["status"] == "issued"
        book = await ledger(client)
        assert book["payments_applied"] == 1 and book["idempotent_replays"] == 1
        assert book["claims"][0]["payments_applied"] == 1 and book["claims"][0]["paid_amount"] == "45.00"


async def test_dropped_reply_in_process_raises_after_doing_the_work(client: httpx.AsyncClient) -> None:
    await set_faults(client, dropped_reply_rate=1.0)
    with pytest.raises(ReplyDropped):
        await submit(client, claim_body(), key="k-in-process")
    assert (await ledger(client))["submissions_applied"] == 1
    await set_faults(client)
    assert (await submit(client, claim_body(), key="k-in-process")).status_code == 200


# -- held reply: applied, the answer kept back -------------------------------------------------------------


async def test_held_reply_is_listed_while_held_with_the_work_already_done(client: httpx.AsyncClient) -> None:
    await set_faults(client, held_reply_rate=1.0, held_reply_seconds=0.4)
    started = time.perf_counter()
    pending = asyncio.create_task(submit(client, claim_body(), key="k-held"))
    hold = await wait_hold(client, "holding", idempotency_key="k-held")
    assert hold["fault"] == "held_reply" and hold["endpoint"] == "submit" and hold["status_code"] == 201
    assert hold["method"] == "POST" and hold["path"] == "/v1/claims"
    assert not pending.done()
    book = await ledger(client)  # applied before the answer left
    assert book["submissions_applied"] == 1 and book["faults_by_kind"]["held_reply"] == 1
    response = await pending
    assert time.perf_counter() - started >= 0.4
    assert response.status_code == 201 and response.json()["payer_claim_id"] == book["claims"][0]["payer_claim_id"]
    [done] = await holds(client)
    assert done["id"] == hold["id"] and done["state"] == "released" and done["until"] >= done["since"]


@pytest.mark.parametrize("endpoint", ["submit", "pay"])
async def test_held_reply_ends_when_the_client_goes_away_and_the_retry_finds_the_effect_once(endpoint: str) -> None:
    """The dangerous window: applied, the answer held, the caller dies. Its successor retries with the key."""
    async with served_sandbox() as client:
        pcid = ""
        if endpoint == "pay":
            pcid = (await submit(client, claim_body(), key="k-claim")).json()["payer_claim_id"]

        async def call(http: httpx.AsyncClient) -> httpx.Response:
            if endpoint == "submit":
                return await submit(http, claim_body(), key="k-1")
            return await pay(http, payment_body(pcid), "k-1")

        await set_faults(client, held_reply_rate=1.0, held_reply_seconds=60, endpoints=[endpoint], max_per_key=1)
        async with httpx.AsyncClient(base_url=client.base_url, timeout=30) as doomed:
            caller = asyncio.create_task(call(doomed))
            hold = await wait_hold(client, "holding", endpoint=endpoint, idempotency_key="k-1")
            book = await ledger(client)
            assert book["submissions_applied"] == 1 and book["payments_applied"] == (endpoint == "pay")
            caller.cancel()  # the caller dies while the answer is held: its connection closes
            with pytest.raises(asyncio.CancelledError):
                await caller
        gone = await wait_hold(client, "client_gone", id=hold["id"])
        assert gone["until"] - gone["since"] < 30  # it ended with the connection, not after 60 s
        retry = await call(client)  # max_per_key=1: the retry is not held
        assert retry.status_code == 200
        book = await ledger(client)
        [entry] = book["claims"]
        assert entry["submissions_applied"] == 1
        if endpoint == "submit":
            assert book["submissions_applied"] == 1 and entry["submission_replays"] == 1
        else:
            assert book["payments_applied"] == 1 and entry["payments_applied"] == 1 and entry["paid_amount"] == "45.00"


async def test_held_then_lost_reply_answers_500_after_the_hold(client: httpx.AsyncClient) -> None:
    await set_faults(client, held_reply_rate=1.0, held_reply_seconds=0.2, lost_reply_rate=1.0)
    started = time.perf_counter()
    response = await submit(client, claim_body())
    assert time.perf_counter() - started >= 0.2
    assert response.status_code == 500 and response.json()["error"] == "injected_lost_reply"
    kinds = (await ledger(client))["faults_by_kind"]
    assert kinds["held_reply"] == 1 and kinds["lost_reply"] == 1


async def test_slow_and_timeout_requests_are_listed_while_held(client: httpx.AsyncClient) -> None:
    await set_faults(client, slow_rate=1.0, slow_seconds=0.3, endpoints=["eligibility"])
    pending = asyncio.create_task(client.post("/v1/eligibility", json={}))
    hold = await wait_hold(client, "holding", fault="slow")
    assert hold["endpoint"] == "eligibility" and hold["status_code"] is None and hold["idempotency_key"] is None
    assert (await ledger(client))["eligibility_requests"] == 0  # held before the handler
    assert (await pending).status_code == 422
    await wait_hold(client, "released", id=hold["id"])
    await set_faults(client, timeout_rate=1.0, timeout_seconds=0.2)
    pending = asyncio.create_task(submit(client, claim_body()))
    await wait_hold(client, "holding", fault="timeout", endpoint="submit")
    assert (await pending).status_code == 504


# -- scoping: endpoints, max_per_key, the seeded sequence ------------------------------------------------------


async def test_endpoints_limit_every_fault(client: httpx.AsyncClient) -> None:
    await set_faults(client, error_rate=1.0, endpoints=["status", "eligibility"])
    pcid = (await submit(client, claim_body())).json()["payer_claim_id"]
    assert (await client.get(f"/v1/claims/{pcid}/status")).status_code == 500
    assert (await client.post("/v1/eligibility", json={})).status_code == 500
    assert (await pay(client, payment_body(pcid), "p")).status_code == 201
    bad = await client.post("/_sandbox/faults", json={"endpoints": ["payments"]})
    assert bad.status_code == 422


async def test_max_per_key_faults_each_key_that_many_times(client: httpx.AsyncClient) -> None:
    await set_faults(client, lost_reply_rate=1.0, max_per_key=2)
    for key in ("a", "b"):
        body = claim_body(claim_id=f"CLM-{key}")
        codes = [(await submit(client, body, key=key)).status_code for _ in range(4)]
        assert codes == [500, 500, 200, 200]
    # Per endpoint: the payment under a key a submission used has its own count.
    pcid = (await ledger(client))["claims"][0]["payer_claim_id"]
    assert (await pay(client, payment_body(pcid, "CLM-a"), "a")).status_code == 500
    # Requests without a key are not limited; a new POST of the settings counts afresh.
    assert [(await client.post("/v1/eligibility", json={})).status_code for _ in range(3)] == [500] * 3
    await set_faults(client, lost_reply_rate=1.0, max_per_key=1)
    assert (await submit(client, claim_body(claim_id="CLM-a"), key="a")).status_code == 500
    book = await ledger(client)
    assert book["submissions_applied"] == 2 and book["payments_applied"] == 1


async def test_the_seeded_sequence_of_the_first_four_faults_is_unchanged(client: httpx.AsyncClient) -> None:
    """Four draws per request, as before dropped and held replies existed: a seed chosen for a drill still holds."""
    await set_faults(client, error_rate=0.3, timeout_rate=0.2, timeout_seconds=0, seed=399)
    codes = [(await client.post("/v1/eligibility", json={})).status_code for _ in range(30)]
    dice = random.Random(399)
    expected = []
    for _ in range(30):
        error, timeout, _slow, _lost = (dice.random() for _ in range(4))
        expected.append(500 if error < 0.3 else 504 if timeout < 0.2 else 422)
    assert codes == expected


async def test_reset_forgets_holds_and_key_counts(client: httpx.AsyncClient) -> None:
    await set_faults(client, held_reply_rate=1.0, held_reply_seconds=0, max_per_key=1)
    assert (await submit(client, claim_body(), key="k")).status_code == 201
    assert len(await holds(client)) == 1
    assert (await client.post("/_sandbox/reset")).status_code == 200
    assert await holds(client) == []
    assert (await client.get("/_sandbox/faults")).json()["max_per_key"] is None
