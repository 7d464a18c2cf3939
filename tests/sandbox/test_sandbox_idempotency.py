"""Idempotent submissions and payments: replays, key reuse, missing keys and body errors."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx

from tests.sandbox.sandbox_testkit import claim_body, ledger, status, submit


async def test_replay_returns_the_same_body_and_applies_once(client: httpx.AsyncClient) -> None:
    body = claim_body()
    first = await submit(client, body, key="k-1")
    second = await submit(client, body, key="k-1")
    assert first.status_code == 201 and second.status_code == 200
    assert second.content == first.content
    book = await ledger(client)
    assert book["submission_requests"] == 2
    assert book["submissions_applied"] == 1
    assert book["idempotent_replays"] == 1
    (entry,) = book["claims"]
    assert entry["payer_claim_id"] == first.json()["payer_claim_id"]
    assert entry["idempotency_key"] == "k-1"
    assert entry["submissions_applied"] == 1 and entry["submission_replays"] == 1


async def test_replay_ignores_key_order_and_whitespace(client: httpx.AsyncClient) -> None:
    body = claim_body()
    first = await submit(client, body, key="k-order")
    reordered = json.dumps(dict(reversed(list(body.items()))), indent=2)
    second = await client.post(
        "/v1/claims", content=reordered, headers={"Idempotency-Key": "k-order", "content-type": "application/json"}
    )
    assert second.status_code == 200 and second.content == first.content


async def test_replay_after_the_claim_moved_on_still_returns_the_original_answer(client: httpx.AsyncClient) -> None:
    body = claim_body()
    first = await submit(client, body)
    for _ in range(3):
        await status(client, first.json()["payer_claim_id"])
    again = await submit(client, body)
    assert again.status_code == 200 and again.json() == first.json()  # still A1: the answer to *that* request


async def test_same_key_with_a_different_body_is_409(client: httpx.AsyncClient) -> None:
    first = await submit(client, claim_body(charges=("45.00",)), key="k-2")
    conflict = await submit(client, claim_body(charges=("46.00",)), key="k-2")
    assert conflict.status_code == 409
    assert conflict.json()["error"] == "idempotency_key_reused"
    book = await ledger(client)
    assert book["submissions_applied"] == 1 and book["idempotency_conflicts"] == 1
    assert [c["payer_claim_id"] for c in book["claims"]] == [first.json()["payer_claim_id"]]


async def test_extra_fields_are_accepted_and_part_of_the_body(client: httpx.AsyncClient) -> None:
    body = claim_body(diagnoses=["E11.9"], billing_provider={"npi": "1234567893"})
    assert (await submit(client, body, key="k-x")).status_code == 201
    body["diagnoses"] = ["E11.65"]
    assert (await submit(client, body, key="k-x")).status_code == 409


async def test_missing_idempotency_key_is_400_and_applies_nothing(client: httpx.AsyncClient) -> None:
    response = await client.post("/v1/claims", json=claim_body())
    assert response.status_code == 400
    assert response.json()["error"] == "missing_idempotency_key"
    assert "Idempotency-Key" in response.json()["message"]
    blank = await client.post("/v1/claims", json=claim_body(), headers={"Idempotency-Key": "  "})
    assert blank.status_code == 400
    book = await ledger(client)
    assert book["submission_requests"] == 2 and book["submissions_applied"] == 0 and book["claims"] == []


async def test_unparseable_bodies_are_422_with_field_errors(client: httpx.AsyncClient) -> None:
    body = claim_body()
    body["total_charge"] = 45.0  # money must be a string, never a float
    body["lines"][0]["charge"] = "4.5.0"
    del body["member_id"]
    response = await submit(client, body, key="k-bad")
    assert response.status_code == 422
    fields = {e["field"] for e in response.json()["fields"]}
    assert fields == {"total_charge", "lines.0.charge", "member_id"}
    not_json = await client.post(
        "/v1/claims", content=b"{nope", headers={"Idempotency-Key": "k-bad2", "content-type": "application/json"}
    )
    assert not_json.status_code == 422 and not_json.json()["error"] == "invalid_body"
    no_lines = await submit(client, {**claim_body(), "lines": []}, key="k-bad3")
    assert no_lines.status_code == 422
    assert (await ledger(client))["submissions_applied"] == 0


async def test_a_bad_body_does_not_burn_the_key(client: httpx.AsyncClient) -> None:
    bad = await submit(client, {**claim_body(), "total_charge": 1}, key="k-burn")
    assert bad.status_code == 422
    assert (await submit(client, claim_body(), key="k-burn")).status_code == 201


async def test_concurrent_duplicates_apply_exactly_once(client: httpx.AsyncClient) -> None:
    body = claim_body()
    responses = await asyncio.gather(*(submit(client, body, key="k-race") for _ in range(25)))
    codes = sorted(r.status_code for r in responses)
    assert codes == [200] * 24 + [201]
    assert len({r.content for r in responses}) == 1
    assert (await ledger(client))["submissions_applied"] == 1


async def test_different_keys_for_one_claim_id_show_up_in_the_ledger(client: httpx.AsyncClient) -> None:
    """The sandbox does not hide a client's double submission: the ledger exposes it."""
    await submit(client, claim_body(claim_id="CLM-D"), key="k-a")
    await submit(client, claim_body(claim_id="CLM-D"), key="k-b")
    book = await ledger(client)
    assert len(book["claims"]) == 2
    assert {c["submissions_applied"] for c in book["claims"]} == {2}


# -- payments ---------------------------------------------------------------------------------------------


async def _finalized_claim(client: httpx.AsyncClient, claim_id: str = "CLM-1") -> str:
    pcid: str = (await submit(client, claim_body(claim_id=claim_id), key=f"sub-{claim_id}")).json()["payer_claim_id"]
    for _ in range(3):
        await status(client, pcid)
    return pcid


def payment(pcid: str, amount: str = "45.00", claim_id: str = "CLM-1") -> dict[str, Any]:
    return {
        "payer_claim_id": pcid,
        "claim_id": claim_id,
        "amount": amount,
        "lines": [{"line_number": 1, "amount": amount}],
    }


async def pay(client: httpx.AsyncClient, body: dict[str, Any], key: str = "pay-1") -> httpx.Response:
    return await client.post("/v1/payments", json=body, headers={"Idempotency-Key": key})


async def test_payment_is_issued_once_and_replayed(client: httpx.AsyncClient) -> None:
    pcid = await _finalized_claim(client)
    first = await pay(client, payment(pcid))
    second = await pay(client, payment(pcid))
    assert first.status_code == 201 and second.status_code == 200
    assert second.content == first.content
    answer = first.json()
    assert answer["payment_id"].startswith("PAY-")
    assert answer == {"payment_id": answer["payment_id"], "payer_claim_id": pcid, "amount": "45.00", "status": "issued"}
    book = await ledger(client)
    assert book["payment_requests"] == 2 and book["payments_applied"] == 1
    (entry,) = book["claims"]
    assert entry["payments_applied"] == 1 and entry["paid_amount"] == "45.00"


async def test_payment_key_reuse_with_a_different_body_is_409(client: httpx.AsyncClient) -> None:
    pcid = await _finalized_claim(client)
    await pay(client, payment(pcid, "45.00"))
    conflict = await pay(client, payment(pcid, "40.00"))
    assert conflict.status_code == 409 and conflict.json()["error"] == "idempotency_key_reused"
    assert (await ledger(client))["claims"][0]["paid_amount"] == "45.00"


async def test_payment_rules(client: httpx.AsyncClient) -> None:
    pcid = await _finalized_claim(client)
    unknown = await pay(client, payment("PCN-UNKNOWN"), key="p-unknown")
    assert unknown.status_code == 404 and unknown.json()["error"] == "unknown_payer_claim"
    no_key = await client.post("/v1/payments", json=payment(pcid))
    assert no_key.status_code == 400
    wrong_claim = await pay(client, payment(pcid, claim_id="CLM-OTHER"), key="p-wrong")
    assert wrong_claim.status_code == 422 and wrong_claim.json()["fields"][0]["field"] == "claim_id"
    unbalanced = {**payment(pcid), "amount": "50.00"}
    assert (await pay(client, unbalanced, key="p-unbalanced")).status_code == 422
    float_amount = {**payment(pcid), "amount": 45.0}
    response = await pay(client, float_amount, key="p-float")
    assert response.status_code == 422 and response.json()["fields"][0]["field"] == "amount"
    book = await ledger(client)
    assert book["payments_applied"] == 0 and book["payment_requests"] == 5
    # A 404 is not stored under the key: the same key works once the body is right.
    assert (await pay(client, payment(pcid), key="p-unknown")).status_code == 201
