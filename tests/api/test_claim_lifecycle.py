"""End to end through the API: every path a claim can take, on real Temporal, PostgreSQL and HTTP."""

from __future__ import annotations

import asyncio
import uuid
from decimal import Decimal
from typing import Any

from sqlalchemy import text

from api.auth import Role
from tests.support.stack import Stack, auth
from workers.sample_claims import scenario_claim


def member(prefix: str) -> dict[str, Any]:
    """A claim body whose member id (`prefix` and a random tail) drives the sandbox scenario."""
    return scenario_claim(prefix)


def statuses(claim: dict[str, Any]) -> list[str]:
    return [entry["status"] for entry in claim["status_history"]]


async def test_clean_claim_is_paid_in_full_and_closed(stack: Stack) -> None:
    claim_id = await stack.submit(member("M"))
    claim = await stack.wait_for(claim_id, "closed")
    assert statuses(claim) == ["received", "validating", "submitted", "pending", "approved", "paid", "closed"]
    assert claim["payer_claim_id"]
    line = claim["lines"][0]
    assert line["adjudication"]["paid"] == line["charge"] == "45.00"
    assert claim["payment"]["amount"] == "45.00"
    [ledger] = await stack.ledger_for(claim_id)
    assert ledger["submissions_applied"] == 1
    assert ledger["payments_applied"] == 1
    assert Decimal(ledger["paid_amount"]) == Decimal("45.00")


async def test_claim_failing_edits_is_invalid_with_every_error_and_never_submitted(stack: Stack) -> None:
    body = member("M")
    body["lines"][0]["charge"] = "0.00"
    body["lines"][0]["diagnosis_pointers"] = [7]
    body["total_charge"] = "10.00"
    claim_id = await stack.submit(body)
    claim = await stack.wait_for(claim_id, "invalid")
    paths = {error["path"] for error in claim["validation_errors"]}
    assert {"lines[0].charge", "lines[0].diagnosis_pointers[0]", "total_charge"} <= paths
    assert all(error["rule_id"] and error["message"] for error in claim["validation_errors"])
    assert statuses(claim) == ["received", "validating", "invalid"]
    assert await stack.ledger_for(claim_id) == []


async def test_payer_denial_goes_to_an_adjuster_who_denies(stack: Stack) -> None:
    claim_id = await stack.submit(member("DENY"))
    claim = await stack.wait_for(claim_id, "in_review")
    adjuster = claim["assigned_adjuster"]
    assert adjuster in {"alice", "bob"}
    assert claim["review_reason"] == "denied_by_payer"
    assert claim["lines"][0]["adjudication"]["adjustments"][0]["group_code"] == "CO"
    response = await stack.api.post(
        f"/v1/claims/{claim_id}/decision",
        json={"action": "deny", "reason_code": "50", "note": "not medically necessary"},
        headers=auth(Role.ADJUSTER, sub=adjuster, org=None),
    )
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "denied"
    claim = await stack.wait_for(claim_id, "denied")
    assert statuses(claim)[-2:] == ["in_review", "denied"]
    [ledger] = await stack.ledger_for(claim_id)
    assert ledger["payments_applied"] == 0


async def test_partial_payment_is_partially_approved_line_by_line_and_paid(stack: Stack) -> None:
    body = member("PART")
    claim_id = await stack.submit(body)
    claim = await stack.wait_for(claim_id, "in_review")
    assert claim["review_reason"] == "partially_paid"
    adjuster = claim["assigned_adjuster"]
    response = await stack.api.post(
        f"/v1/claims/{claim_id}/decision",
        json={"action": "partial", "lines": [{"line_number": 1, "approved_amount": "36.00", "reason_code": "45"}]},
        headers=auth(Role.ADJUSTER, sub=adjuster, org=None),
    )
    assert response.status_code == 200, response.text
    claim = await stack.wait_for(claim_id, "closed")
    assert statuses(claim)[-4:] == ["in_review", "partially_approved", "paid", "closed"]
    adjudication = claim["lines"][0]["adjudication"]
    assert adjudication["paid"] == "36.00"
    assert adjudication["adjustments"] == [{"group_code": "CO", "reason_code": "45", "amount": "9.00"}]
    [ledger] = await stack.ledger_for(claim_id)
    assert ledger["payments_applied"] == 1 and Decimal(ledger["paid_amount"]) == Decimal("36.00")


async def test_information_requested_then_provided_then_approved(stack: Stack) -> None:
    claim_id = await stack.submit(member("PEND"))
    claim = await stack.wait_for(claim_id, "in_review")
    assert claim["review_reason"] == "information_requested_by_payer"
    adjuster = auth(Role.ADJUSTER, sub=claim["assigned_adjuster"], org=None)
    asked = await stack.api.post(
        f"/v1/claims/{claim_id}/decision",
        json={"action": "request_info", "note": "send the lab requisition"},
        headers=adjuster,
    )
    assert asked.status_code == 200, asked.text
    await stack.wait_for(claim_id, "info_requested")
    answered = await stack.api.post(
        f"/v1/claims/{claim_id}/information", json={"note": "requisition uploaded as DOC-9"}, headers=stack.headers
    )
    assert answered.status_code == 200, answered.text
    await stack.wait_for(claim_id, "in_review")
    approved = await stack.api.post(f"/v1/claims/{claim_id}/decision", json={"action": "approve"}, headers=adjuster)
    assert approved.status_code == 200, approved.text
    claim = await stack.wait_for(claim_id, "closed")
    assert statuses(claim)[-6:] == ["in_review", "info_requested", "in_review", "approved", "paid", "closed"]


async def test_claim_above_the_auto_approval_limit_needs_an_adjuster_with_authority(stack: Stack) -> None:
    body = member("M")
    body["lines"][0]["charge"] = "1500.00"
    body["total_charge"] = "1500.00"
    claim_id = await stack.submit(body)
    claim = await stack.wait_for(claim_id, "in_review")
    assert claim["review_reason"] == "above_auto_approval_limit"
    assert claim["assigned_adjuster"] in {"alice", "carol"}  # bob's authority stops at 1000
    response = await stack.api.post(
        f"/v1/claims/{claim_id}/decision",
        json={"action": "approve"},
        headers=auth(Role.ADJUSTER, sub=claim["assigned_adjuster"], org=None),
    )
    assert response.status_code == 200, response.text
    claim = await stack.wait_for(claim_id, "closed")
    assert claim["payment"]["amount"] == "1500.00"


async def test_processor_rejection_goes_to_review(stack: Stack) -> None:
    claim_id = await stack.submit(member("REJECT"))
    claim = await stack.wait_for(claim_id, "in_review")
    assert claim["review_reason"] == "rejected_by_processor"
    assert statuses(claim) == ["received", "validating", "submitted", "in_review"]


async def test_claim_in_review_is_cancelled_once_with_its_reason_and_then_is_final(stack: Stack) -> None:
    claim_id = await stack.submit(member("DENY"))
    await stack.wait_for(claim_id, "in_review")
    response = await stack.api.post(
        f"/v1/claims/{claim_id}/cancel", json={"reason": "billed in error"}, headers=stack.headers
    )
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "cancelled"
    claim = await stack.wait_for(claim_id, "cancelled")
    assert statuses(claim)[-2:] == ["in_review", "cancelled"]
    assert claim["status_history"][-1]["note"] == "billed in error"
    again = await stack.api.post(f"/v1/claims/{claim_id}/cancel", headers=stack.headers)
    assert again.status_code == 409
    assert "final" in again.json()["detail"]
    [ledger] = await stack.ledger_for(claim_id)
    assert ledger["payments_applied"] == 0


async def test_pending_claim_cannot_be_cancelled_and_the_answer_says_to_send_a_void_claim(stack: Stack) -> None:
    claim_id = await stack.submit(member("NEVER"))
    await stack.wait_for(claim_id, "pending")
    response = await stack.api.post(
        f"/v1/claims/{claim_id}/cancel", json={"reason": "billed in error"}, headers=stack.headers
    )
    assert response.status_code == 409, response.text
    problem = response.json()
    assert problem["code"] == "not_cancellable"
    assert "void claim" in problem["detail"]
    assert (await stack.read(claim_id))["status"] == "pending"
    async with stack.sessions() as session:  # the refused cancellation's reason was not kept
        notes = await session.execute(text("SELECT count(*) FROM claim_note WHERE claim_id = :c"), {"c": claim_id})
        assert notes.scalar_one() == 0
    await stack.temporal.get_workflow_handle(f"claim-{claim_id}").terminate(reason="test cleanup")


async def test_same_idempotency_key_same_body_is_one_claim(stack: Stack) -> None:
    body = member("M")
    key = f"retry-{uuid.uuid4().hex}"
    first = await stack.api.post("/v1/claims", json=body, headers={**stack.headers, "Idempotency-Key": key})
    second = await stack.api.post("/v1/claims", json=body, headers={**stack.headers, "Idempotency-Key": key})
    assert first.status_code == second.status_code == 202
    assert first.json()["claim_id"] == second.json()["claim_id"]
    assert second.headers["Idempotent-Replayed"] == "true"
    assert first.headers["Location"] == f"/v1/claims/{first.json()['claim_id']}"
    claim_id = first.json()["claim_id"]
    await stack.wait_for(claim_id, "closed")
    third = await stack.api.post("/v1/claims", json=body, headers={**stack.headers, "Idempotency-Key": key})
    assert third.status_code == 202 and third.json()["claim_id"] == claim_id and third.json()["status"] == "closed"
    [ledger] = await stack.ledger_for(claim_id)
    assert ledger["submissions_applied"] == 1 and ledger["payments_applied"] == 1


async def test_same_idempotency_key_with_another_body_is_refused(stack: Stack) -> None:
    key = f"reuse-{uuid.uuid4().hex}"
    body = member("M")
    assert (
        await stack.api.post("/v1/claims", json=body, headers={**stack.headers, "Idempotency-Key": key})
    ).status_code == 202
    body["patient_control_number"] = "OTHER-1"
    response = await stack.api.post("/v1/claims", json=body, headers={**stack.headers, "Idempotency-Key": key})
    assert response.status_code == 409
    assert "Idempotency-Key" in response.json()["detail"]


async def test_claim_is_found_in_temporal_by_its_status(stack: Stack) -> None:
    claim_id = await stack.submit(member("M"))
    await stack.wait_for(claim_id, "closed")
    query = f'WorkflowId = "claim-{claim_id}" AND ClaimStatus = "closed" AND PayerId = "SANDBOX"'
    found = [w.id async for w in stack.temporal.list_workflows(query)]
    for _ in range(50):
        if found:
            break
        await asyncio.sleep(0.1)
        found = [w.id async for w in stack.temporal.list_workflows(query)]
    assert found == [f"claim-{claim_id}"]
