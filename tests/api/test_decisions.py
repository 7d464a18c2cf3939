"""Adjuster decisions: refused ones answer 409/422 and leave no trace in the workflow's history."""

from __future__ import annotations

from typing import Any

import pytest
from temporalio.api.enums.v1 import EventType

from api.auth import Role
from tests.api.test_claim_lifecycle import member
from tests.support.stack import Stack, auth


async def update_events(stack: Stack, claim_id: str) -> list[Any]:
    handle = stack.temporal.get_workflow_handle(f"claim-{claim_id}")
    kinds = {
        EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED,
        EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_COMPLETED,
        EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_REJECTED,
        EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ADMITTED,
    }
    return [e async for e in handle.fetch_history_events() if e.event_type in kinds]


@pytest.fixture(scope="module")
async def denied_claim(stack: Stack) -> dict[str, Any]:
    """A claim the payer denied, waiting in review."""
    claim_id = await stack.submit(member("DENY"))
    return await stack.wait_for(claim_id, "in_review")


def other_adjuster(assigned: str) -> str:
    return "bob" if assigned == "alice" else "alice"


@pytest.mark.parametrize(
    ("who", "body", "status", "says"),
    [
        ("other", {"action": "approve"}, 409, "assigned to another adjuster"),
        (
            "assigned",
            {"action": "approve", "lines": [{"line_number": 1, "approved_amount": "99.00"}]},
            422,
            "more than",
        ),
        ("assigned", {"action": "deny"}, 422, "reason code"),
        ("assigned", {"action": "approve", "lines": [{"line_number": 5, "approved_amount": "1.00"}]}, 422, "no line 5"),
        ("assigned", {"action": "partial", "lines": []}, 422, "names the lines"),
        ("assigned", {"action": "request_info"}, 422, "what information"),
        (
            "assigned",
            {"action": "approve", "lines": [{"line_number": 1, "approved_amount": "10.00"}]},
            422,
            "reason code",
        ),
    ],
)
async def test_invalid_decision_is_refused_without_a_trace(
    stack: Stack, denied_claim: dict[str, Any], who: str, body: dict[str, Any], status: int, says: str
) -> None:
    claim_id = denied_claim["claim_id"]
    assigned = denied_claim["assigned_adjuster"]
    sub = assigned if who == "assigned" else other_adjuster(assigned)
    before = await update_events(stack, claim_id)
    response = await stack.api.post(
        f"/v1/claims/{claim_id}/decision", json=body, headers=auth(Role.ADJUSTER, sub=sub, org=None)
    )
    assert response.status_code == status, response.text
    assert says in response.json()["detail"]
    assert await update_events(stack, claim_id) == before == []
    assert (await stack.read(claim_id))["status"] == "in_review"


async def test_decision_body_with_unknown_action_is_422_with_path(stack: Stack, denied_claim: dict[str, Any]) -> None:
    response = await stack.api.post(
        f"/v1/claims/{denied_claim['claim_id']}/decision",
        json={"action": "maybe"},
        headers=auth(Role.ADJUSTER, sub=denied_claim["assigned_adjuster"], org=None),
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["path"] == "action"


async def test_submitter_cannot_decide(stack: Stack, denied_claim: dict[str, Any]) -> None:
    response = await stack.api.post(
        f"/v1/claims/{denied_claim['claim_id']}/decision", json={"action": "approve"}, headers=stack.headers
    )
    assert response.status_code == 403


async def test_supervisor_may_decide_a_claim_assigned_to_someone_else(stack: Stack) -> None:
    claim_id = await stack.submit(member("DENY"))
    await stack.wait_for(claim_id, "in_review")
    response = await stack.api.post(
        f"/v1/claims/{claim_id}/decision",
        json={"action": "approve", "note": "overturned on appeal"},
        headers=auth(Role.SUPERVISOR, sub="carol", org=None),
    )
    assert response.status_code == 200, response.text
    claim = await stack.wait_for(claim_id, "closed")
    assert claim["payment"]["amount"] == claim["total_charge"]


async def test_decision_on_a_claim_not_in_review_is_a_conflict(stack: Stack) -> None:
    claim_id = await stack.submit(member("NEVER"))
    await stack.wait_for(claim_id, "pending")
    response = await stack.api.post(
        f"/v1/claims/{claim_id}/decision",
        json={"action": "approve"},
        headers=auth(Role.SUPERVISOR, sub="carol", org=None),
    )
    assert response.status_code == 409
    assert "in_review" in response.json()["detail"]
    assert await update_events(stack, claim_id) == []
    await stack.api.post(f"/v1/claims/{claim_id}/cancel", headers=stack.headers)
