"""Corrections (frequency 7) and voids (frequency 8) on the real stack: a new claim and workflow linked to the
original by its payer claim id, sent to the sandbox in both dialects; the original shows replaced or voided once
the payer accepts, GET shows the lineage both ways, a void reverses the original's ledger; the refusals."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import httpx
import pytest

from api.auth import Role
from tests.api.test_claim_lifecycle import member
from tests.api.test_x12_flow import sent_837p, x12_claim
from tests.support.stack import Stack, auth

DIALECTS = ["SANDBOX", "SANDBOX-X12"]


def claim_for(payer_id: str, prefix: str = "M") -> dict[str, Any]:
    return x12_claim(prefix) if payer_id.endswith("-X12") else member(prefix)


def statuses(claim: dict[str, Any]) -> list[str]:
    return [entry["status"] for entry in claim["status_history"]]


async def post(
    stack: Stack, path: str, body: dict[str, Any] | None = None, *, key: str | None = None, **headers: str
) -> httpx.Response:
    sent = dict(stack.headers) | headers | ({"Idempotency-Key": key} if key else {})
    return await stack.api.post(path, json=body, headers=sent)


async def recorded(stack: Stack, claim_id: str) -> dict[str, Any]:
    """The claim once its last status change is in the database (a read may show the workflow's live state a moment
    before its record, and notes come only from the record)."""
    await stack.temporal.get_workflow_handle(f"claim-{claim_id}").result()
    return await stack.read(claim_id)


async def paid_original(stack: Stack, payer_id: str) -> dict[str, Any]:
    claim_id = await stack.submit(claim_for(payer_id))
    return await stack.wait_for(claim_id, "closed")


@pytest.mark.parametrize("payer_id", DIALECTS)
async def test_a_paid_claim_corrected_is_replaced_and_its_replacement_paid_with_the_lineage_both_ways(
    stack: Stack, payer_id: str
) -> None:
    body = claim_for(payer_id)
    original_id = await stack.submit(body)
    original = await stack.wait_for(original_id, "closed")
    body["lines"][0]["modifiers"] = ["91"]  # the correction: a modifier the original lacked

    response = await post(stack, f"/v1/claims/{original_id}/corrections", body, key=f"fix-{uuid.uuid4().hex}")

    assert response.status_code == 202, response.text
    new_id = response.json()["claim_id"]
    assert new_id != original_id and response.headers["Location"] == f"/v1/claims/{new_id}"
    replacement = await stack.wait_for(new_id, "closed")
    assert statuses(replacement) == ["received", "validating", "submitted", "pending", "approved", "paid", "closed"]
    assert replacement["claim"]["frequency_code"] == "7"
    assert replacement["claim"]["original_payer_claim_id"] == original["payer_claim_id"]
    assert replacement["payer_claim_id"] != original["payer_claim_id"]
    assert replacement["lines"][0]["modifiers"] == ["91"]
    assert (replacement["replaces"], replacement["replaced_by"], replacement["voids"]) == (original_id, [], None)

    original = await stack.read(original_id)
    assert original["status"] == "replaced"
    assert statuses(original) == [*statuses(replacement), "replaced"]  # its history stays, one row added
    assert (
        original["status_history"][-1]["reason"] == f"replaced by claim {new_id} (frequency 7), accepted by the payer"
    )
    assert (original["replaced_by"], original["replaces"], original["voided_by"]) == ([new_id], None, [])
    [sent] = await stack.ledger_for(new_id)
    assert sent["payments_applied"] == 1
    if payer_id.endswith("-X12"):  # CLM05-3 = 7 and REF*F8 reached the sandbox's own reader
        interchange = await sent_837p(stack, new_id)
        assert ":B:7*" in interchange and f"REF*F8*{original['payer_claim_id']}~" in interchange


@pytest.mark.parametrize("payer_id", DIALECTS)
async def test_a_paid_claim_voided_is_voided_with_its_payment_reversed_in_the_ledger(
    stack: Stack, payer_id: str
) -> None:
    original = await paid_original(stack, payer_id)
    original_id = original["claim_id"]
    assert original["ledger"]["totals"]["paid"] == "45.00"

    response = await post(stack, f"/v1/claims/{original_id}/void", {"reason": "billed to the wrong patient"})

    assert response.status_code == 202, response.text
    void_id = response.json()["claim_id"]
    await stack.wait_for(void_id, "closed")
    void = await recorded(stack, void_id)
    assert statuses(void) == ["received", "validating", "submitted", "closed"]
    assert void["status_history"][-1]["reason"] == f"void accepted by the processor; claim {original_id} voided"
    assert void["status_history"][-1]["note"] == "billed to the wrong patient"
    assert (void["claim"]["frequency_code"], void["claim"]["original_payer_claim_id"]) == (
        "8",
        original["payer_claim_id"],
    )
    assert (void["voids"], void["replaces"]) == (original_id, None)

    original = await stack.read(original_id)
    assert original["status"] == "voided"
    assert (original["voided_by"], original["replaced_by"]) == ([void_id], [])
    ledger = original["ledger"]
    reversal = [e for e in ledger["entries"] if e["remittance_id"] == f"void:{void_id}"]
    assert [(e["kind"], e["line_number"], e["paid"]) for e in reversal] == [("reversal", 1, "-45.00")]
    assert ledger["totals"]["paid"] == "0.00" and ledger["totals"]["billed"] == "0.00"
    [sent] = await stack.ledger_for(void_id)
    assert (sent["submissions_applied"], sent["payments_applied"], sent["status_requests"]) == (1, 0, 0)


async def test_a_voided_claim_is_withdrawn_at_the_sandbox_its_status_says_so_and_it_is_not_paid(stack: Stack) -> None:
    original = await paid_original(stack, "SANDBOX")
    response = await post(stack, f"/v1/claims/{original['claim_id']}/void")
    assert response.status_code == 202, response.text
    await stack.wait_for(response.json()["claim_id"], "closed")
    async with httpx.AsyncClient(base_url=stack.sandbox_url) as sandbox:
        status = (await sandbox.get(f"/v1/claims/{original['payer_claim_id']}/status")).json()
    assert (status["category"], status["lines"]) == ("F2", [])
    assert "withdrawn by a void claim" in status["message"]


async def test_a_claim_without_a_payer_claim_id_cannot_be_corrected_or_voided(stack: Stack) -> None:
    body = member("M")
    body["total_charge"] = "46.00"  # the lines bill 45.00: invalid, never sent, no payer claim id
    claim_id = await stack.submit(body)
    invalid = await stack.wait_for(claim_id, "invalid")
    assert invalid["payer_claim_id"] is None

    for path, sent in ((f"/v1/claims/{claim_id}/corrections", member("M")), (f"/v1/claims/{claim_id}/void", None)):
        response = await post(stack, path, sent)
        assert response.status_code == 409, response.text
        problem = response.json()
        assert problem["code"] == "no_payer_claim_id"
        assert f"claim {claim_id} has no payer claim id" in problem["detail"]


async def test_a_claim_still_with_the_processor_cannot_be_voided(stack: Stack) -> None:
    claim_id = await stack.submit(member("NEVER"))
    await stack.wait_for(claim_id, "pending")
    response = await post(stack, f"/v1/claims/{claim_id}/void")
    assert response.status_code == 409, response.text
    assert response.json()["code"] == "not_correctable"
    assert "its workflow still runs" in response.json()["detail"]


async def test_another_organizations_claim_is_not_found_for_corrections_and_voids(stack: Stack) -> None:
    original = await paid_original(stack, "SANDBOX")
    other = auth(Role.SUBMITTER, org="org-other")
    for path, sent in (
        (f"/v1/claims/{original['claim_id']}/corrections", member("M")),
        (f"/v1/claims/{original['claim_id']}/void", None),
    ):
        response = await stack.api.post(path, json=sent, headers=other)
        assert response.status_code == 404, response.text
    assert (await stack.read(original["claim_id"]))["replaced_by"] == []


async def test_retries_with_one_idempotency_key_make_one_void_and_another_body_is_409(stack: Stack) -> None:
    original = await paid_original(stack, "SANDBOX")
    path, key = f"/v1/claims/{original['claim_id']}/void", f"void-{uuid.uuid4().hex}"

    first = await post(stack, path, {"reason": "duplicate"}, key=key)
    again = await post(stack, path, {"reason": "duplicate"}, key=key)
    assert (first.status_code, again.status_code) == (202, 202)
    void_id = first.json()["claim_id"]
    assert again.json()["claim_id"] == void_id and again.headers["Idempotent-Replayed"] == "true"
    await stack.wait_for(void_id, "closed")
    after = await post(stack, path, {"reason": "duplicate"}, key=key)  # the original is voided by now
    assert after.status_code == 202 and after.json()["claim_id"] == void_id, after.text

    assert (await stack.read(original["claim_id"]))["voided_by"] == [void_id]
    [sent] = await stack.ledger_for(void_id)
    assert sent["submissions_applied"] == 1
    reused = await post(stack, f"/v1/claims/{original['claim_id']}/corrections", member("M"), key=key)
    assert reused.status_code == 409 and "already used with a different claim body" in reused.json()["detail"], (
        reused.text
    )


async def test_a_second_correction_of_one_original_is_409(stack: Stack) -> None:
    original = await paid_original(stack, "SANDBOX")
    path = f"/v1/claims/{original['claim_id']}/corrections"
    first = await post(stack, path, member("M"))
    assert first.status_code == 202, first.text
    second = await post(stack, f"/v1/claims/{original['claim_id']}/void")
    assert second.status_code == 409, second.text
    assert second.json()["code"] in {"already_corrected", "not_correctable"}


async def test_a_correction_to_another_payer_is_422_naming_the_field(stack: Stack) -> None:
    original = await paid_original(stack, "SANDBOX")
    body = x12_claim("M")
    response = await post(stack, f"/v1/claims/{original['claim_id']}/corrections", body)
    assert response.status_code == 422, response.text
    assert response.json()["code"] == "correction_payer_mismatch"
    assert response.json()["detail"].startswith("insurance.payer_id: a corrected claim goes to the original's payer")


def sandbox_claim(frequency_code: str, original_payer_claim_id: str | None) -> dict[str, Any]:
    """A claim in the sandbox's JSON dialect, as the engine's JSON adapter sends it."""
    return {
        "claim_id": uuid.uuid4().hex,
        "patient_control_number": "LAB-1",
        "payer_id": "SANDBOX",
        "member_id": "M100",
        "total_charge": "45.00",
        "frequency_code": frequency_code,
        "original_payer_claim_id": original_payer_claim_id,
        "lines": [
            {"line_number": 1, "procedure_code": "80053", "charge": "45.00", "units": 1, "service_date": "2026-11-20"}
        ],
    }


@pytest.mark.parametrize("frequency_code", ["7", "8"])
async def test_the_sandbox_rejects_a_replacement_or_void_naming_no_claim_of_its_own(
    stack: Stack, frequency_code: str
) -> None:
    async with httpx.AsyncClient(base_url=stack.sandbox_url) as sandbox:
        response = await sandbox.post(
            "/v1/claims",
            json=sandbox_claim(frequency_code, "PCN-NOSUCHCLAIM"),
            headers={"Idempotency-Key": uuid.uuid4().hex},
        )
    assert response.status_code == 201, response.text
    answer = response.json()
    assert answer["category"] == "A7"
    assert "original_payer_claim_id (REF*F8)" in answer["message"]


async def test_two_voids_of_one_claim_at_once_make_one_void_claim(stack: Stack) -> None:
    original = await paid_original(stack, "SANDBOX")
    path = f"/v1/claims/{original['claim_id']}/void"
    answers = await asyncio.gather(*(post(stack, path, key=f"race-{uuid.uuid4().hex}") for _ in range(4)))
    assert sorted(a.status_code for a in answers) == [202, 409, 409, 409], [a.text for a in answers]
    [won] = [a for a in answers if a.status_code == 202]
    assert {a.json()["code"] for a in answers if a.status_code == 409} == {"already_corrected"}
    await stack.wait_for(won.json()["claim_id"], "closed")
    assert (await recorded(stack, original["claim_id"]))["voided_by"] == [won.json()["claim_id"]]
