"""Adjuster decisions: refused ones answer 409/422 and leave no trace in the workflow's history; of two at once
(or a decision and a cancellation) exactly one takes effect."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import text
from temporalio.api.enums.v1 import EventType

from api.auth import Role
from tests.api.test_claim_lifecycle import member, statuses
from tests.support.database import owner_session
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
        ("other", {"action": "approve"}, 404, "that you can see"),  # an adjuster sees only the claims assigned to them
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
    """A claim of the supervisor's team that waits for information (a claim that never reached review is no
    reviewer's to see: 404)."""
    claim_id = await stack.submit(member("DENY"))
    claim = await stack.wait_for(claim_id, "in_review")
    asked = await stack.api.post(
        f"/v1/claims/{claim_id}/decision",
        json={"action": "request_info", "note": "send the requisition"},
        headers=auth(Role.ADJUSTER, sub=claim["assigned_adjuster"], org=None),
    )
    assert asked.status_code == 200, asked.text
    await stack.wait_for(claim_id, "info_requested")
    before = await update_events(stack, claim_id)
    response = await stack.api.post(
        f"/v1/claims/{claim_id}/decision",
        json={"action": "approve"},
        headers=auth(Role.SUPERVISOR, sub="carol", org=None),
    )
    assert response.status_code == 409
    assert "in_review" in response.json()["detail"]
    assert await update_events(stack, claim_id) == before
    await stack.api.post(f"/v1/claims/{claim_id}/cancel", headers=stack.headers)


async def decision_notes(stack: Stack, claim_id: str) -> list[tuple[str, str]]:
    async with stack.sessions() as session:
        rows = await session.execute(
            text("SELECT kind, body FROM claim_note WHERE claim_id = :claim_id"), {"claim_id": claim_id}
        )
        return [(row.kind, row.body) for row in rows]


async def test_two_decisions_at_once_one_takes_effect_and_the_other_is_a_conflict(stack: Stack) -> None:
    claim_id = await stack.submit(member("DENY"))
    claim = await stack.wait_for(claim_id, "in_review")
    adjuster = auth(Role.ADJUSTER, sub=claim["assigned_adjuster"], org=None)
    bodies = {
        "approved": {"action": "approve", "note": "overturned on appeal"},
        "denied": {"action": "deny", "reason_code": "50", "note": "not medically necessary"},
    }

    responses = await asyncio.gather(
        *(stack.api.post(f"/v1/claims/{claim_id}/decision", json=body, headers=adjuster) for body in bodies.values())
    )

    assert sorted(r.status_code for r in responses) == [200, 409], [r.text for r in responses]
    winner = next(r for r in responses if r.status_code == 200).json()["status"]
    loser = next(r for r in responses if r.status_code == 409).json()
    assert loser["code"] in {"decision_conflict", "conflict"}, loser
    claim = await stack.wait_for(claim_id, "closed" if winner == "approved" else "denied")
    decided = [s for s in statuses(claim) if s in bodies]
    assert decided == [winner]
    assert await decision_notes(stack, claim_id) == [("decision", bodies[winner]["note"])]


async def test_decision_racing_a_cancellation_one_takes_effect_and_the_other_is_a_conflict(stack: Stack) -> None:
    claim_id = await stack.submit(member("DENY"))
    claim = await stack.wait_for(claim_id, "in_review")
    adjuster = auth(Role.ADJUSTER, sub=claim["assigned_adjuster"], org=None)

    decision, cancellation = await asyncio.gather(
        stack.api.post(
            f"/v1/claims/{claim_id}/decision", json={"action": "approve", "note": "approved"}, headers=adjuster
        ),
        stack.api.post(f"/v1/claims/{claim_id}/cancel", json={"reason": "withdrawn"}, headers=stack.headers),
    )

    assert sorted([decision.status_code, cancellation.status_code]) == [200, 409], (decision.text, cancellation.text)
    if decision.status_code == 200:
        claim = await stack.wait_for(claim_id, "closed")
        assert "cancelled" not in statuses(claim)
        assert cancellation.json()["code"] in {"not_cancellable", "conflict"}
        assert await decision_notes(stack, claim_id) == [("decision", "approved")]
    else:
        claim = await stack.wait_for(claim_id, "cancelled")
        assert "approved" not in statuses(claim)
        assert decision.json()["code"] in {"decision_conflict", "conflict"}
        assert await decision_notes(stack, claim_id) == [("cancellation", "withdrawn")]
        [ledger] = await stack.ledger_for(claim_id)
        assert ledger["payments_applied"] == 0


@asynccontextmanager
async def adjusters_set(stack: Stack, **changes: dict[str, Any]) -> AsyncIterator[None]:
    """Change some adjusters' rows (authority_limit, active) for a while, then put them back."""
    columns = "authority_limit, active"
    async with stack.sessions() as session:
        saved = {
            adjuster_id: (
                await session.execute(
                    text(f"SELECT {columns} FROM adjuster WHERE adjuster_id = :id"), {"id": adjuster_id}
                )
            ).one()
            for adjuster_id in changes
        }

    async def write(rows: dict[str, dict[str, Any]]) -> None:
        async with owner_session(stack.sessions) as session:  # the application's role may only read adjusters
            for adjuster_id, values in rows.items():
                assignments = ", ".join(f"{column} = :{column}" for column in values)
                await session.execute(
                    text(f"UPDATE adjuster SET {assignments} WHERE adjuster_id = :id"), {**values, "id": adjuster_id}
                )
            await session.commit()

    await write(changes)
    try:
        yield
    finally:
        await write({a: {"authority_limit": row.authority_limit, "active": row.active} for a, row in saved.items()})


async def test_approval_above_the_adjusters_authority_waits_for_a_supervisors_confirmation(stack: Stack) -> None:
    """Two-step approval over the API: bob's approval above his limit is recorded as a recommendation and the
    claim goes to a supervisor (carol); bob cannot confirm it; carol's confirm pays what bob recommended."""
    body = member("M")
    body["lines"][0]["charge"] = "1500.00"
    body["total_charge"] = "1500.00"
    # bob's authority is 1000.00, so he is assigned a claim of 1500.00 only while it is higher and alice is away;
    # by the time he decides, it is back at 1000.00.
    async with adjusters_set(stack, bob={"authority_limit": Decimal("5000.00")}, alice={"active": False}):
        claim_id = await stack.submit(body)
        claim = await stack.wait_for(claim_id, "in_review")
    assert claim["assigned_adjuster"] == "bob"

    response = await stack.api.post(
        f"/v1/claims/{claim_id}/decision",
        json={"action": "approve", "note": "looks right"},
        headers=auth(Role.ADJUSTER, sub="bob", org=None),
    )

    assert response.status_code == 200, response.text
    assert response.json() | {"claim_id": None} == {
        "claim_id": None,
        "status": "in_review",
        "assigned_adjuster": "carol",
        "awaiting_second_approval": True,
    }
    carol = auth(Role.SUPERVISOR, sub="carol", org=None)
    waiting = (await stack.api.get(f"/v1/claims/{claim_id}", headers=carol)).json()
    assert waiting["recommendation"] == {"action": "approve", "amount": "1500.00", "recommended_by": "bob"}
    assert waiting["assigned_adjuster"] == "carol" and waiting["review_due_at"] is not None
    bob_again = await stack.api.post(
        f"/v1/claims/{claim_id}/decision", json={"action": "confirm"}, headers=auth(Role.ADJUSTER, sub="bob", org=None)
    )
    assert bob_again.status_code == 404, bob_again.text  # the claim is carol's now: bob no longer sees it
    confirmed = await stack.api.post(f"/v1/claims/{claim_id}/decision", json={"action": "confirm"}, headers=carol)
    assert confirmed.status_code == 200, confirmed.text
    closed = await stack.wait_for(claim_id, "closed")
    assert closed["payment"]["amount"] == "1500.00" and closed["recommendation"] is None
    reasons = [entry["reason"] for entry in closed["status_history"]]
    assert "approve 1500.00 recommended by bob: above their authority; waits for a supervisor" in reasons
    assert "approve by carol (recommended by bob, confirmed)" in reasons


async def test_a_supervisor_reassigns_a_claim_in_review_with_a_reason(stack: Stack) -> None:
    claim_id = await stack.submit(member("DENY"))
    claim = await stack.wait_for(claim_id, "in_review")
    other = other_adjuster(claim["assigned_adjuster"])
    carol = auth(Role.SUPERVISOR, sub="carol", org=None)
    response = await stack.api.post(
        f"/v1/claims/{claim_id}/reassign", json={"adjuster_id": other, "reason": "workload"}, headers=carol
    )
    assert response.status_code == 200, response.text
    assert response.json()["assigned_adjuster"] == other
    now = (await stack.api.get(f"/v1/claims/{claim_id}", headers=auth(Role.ADJUSTER, sub=other, org=None))).json()
    assert now["assigned_adjuster"] == other
    assert (
        now["status_history"][-1]["reason"]
        == f"reassigned from {claim['assigned_adjuster']} to {other} by supervisor:carol"
    )
    again = await stack.api.post(
        f"/v1/claims/{claim_id}/reassign", json={"adjuster_id": other, "reason": "again"}, headers=carol
    )
    assert again.status_code == 409 and again.json()["code"] == "reassign_conflict", again.text


@pytest.mark.parametrize(
    ("who", "body", "status", "says"),
    [
        (Role.ADJUSTER, {"adjuster_id": "bob", "reason": "mine"}, 403, "supervisor, admin"),
        (Role.SUBMITTER, {"adjuster_id": "bob", "reason": "mine"}, 403, "supervisor, admin"),
        (Role.SUPERVISOR, {"adjuster_id": "nobody-here", "reason": "x"}, 422, "no adjuster"),
        (Role.SUPERVISOR, {"adjuster_id": "bob"}, 422, "reason"),
    ],
    ids=["adjuster", "submitter", "unknown adjuster", "no reason"],
)
async def test_a_refused_reassignment_says_why_and_changes_nothing(
    stack: Stack, denied_claim: dict[str, Any], who: Role, body: dict[str, Any], status: int, says: str
) -> None:
    claim_id = denied_claim["claim_id"]
    before = await update_events(stack, claim_id)
    sub = {Role.ADJUSTER: denied_claim["assigned_adjuster"], Role.SUPERVISOR: "carol"}.get(who, "s")
    org = stack.org if who is Role.SUBMITTER else None
    response = await stack.api.post(f"/v1/claims/{claim_id}/reassign", json=body, headers=auth(who, sub=sub, org=org))
    assert response.status_code == status, response.text
    assert says in response.text
    assert await update_events(stack, claim_id) == before
    assert (await stack.read(claim_id))["assigned_adjuster"] == denied_claim["assigned_adjuster"]


async def test_a_request_for_information_names_documents_and_the_answer_must_attach_them(stack: Stack) -> None:
    """The adjuster asks for a medical record; an answer without one is refused (422, naming it) and changes nothing;
    the submitter uploads one and answers with its id: the claim is back in review, its history names the document."""
    claim_id = await stack.submit(member("DENY"))
    claim = await stack.wait_for(claim_id, "in_review")
    asked = await stack.api.post(
        f"/v1/claims/{claim_id}/decision",
        json={"action": "request_info", "requested_documents": ["medical_record"], "note": "operative report"},
        headers=auth(Role.ADJUSTER, sub=claim["assigned_adjuster"], org=None),
    )
    assert asked.status_code == 200, asked.text
    waiting = await stack.read(claim_id)
    assert waiting["status"] == "info_requested" and waiting["information_requested"] == ["medical_record"]
    assert waiting["status_history"][-1]["reason"].endswith("(medical_record)")

    no_document = await stack.api.post(
        f"/v1/claims/{claim_id}/information", json={"note": "see attached"}, headers=stack.headers
    )
    assert no_document.status_code == 422, no_document.text
    assert no_document.json()["code"] == "information_incomplete" and "medical_record" in no_document.json()["detail"]
    unknown = await stack.api.post(
        f"/v1/claims/{claim_id}/information", json={"document_ids": ["f" * 32]}, headers=stack.headers
    )
    assert unknown.status_code == 422 and unknown.json()["errors"][0]["path"] == "document_ids[0]", unknown.text
    assert (await stack.read(claim_id))["status"] == "info_requested"

    uploaded = await stack.api.post(
        f"/v1/claims/{claim_id}/documents",
        files={"file": ("record.pdf", b"%PDF-1.7\n1 0 obj\n<<>>\nendobj\n%%EOF\n", "application/pdf")},
        data={"type": "medical_record", "name": "operative report"},
        headers=stack.headers,
    )
    assert uploaded.status_code == 201, uploaded.text
    document_id = uploaded.json()["document_id"]
    answered = await stack.api.post(
        f"/v1/claims/{claim_id}/information", json={"document_ids": [document_id]}, headers=stack.headers
    )
    assert answered.status_code == 200, answered.text
    back = await stack.read(claim_id)
    assert back["status"] == "in_review" and back["information_requested"] == []
    assert (
        back["status_history"][-1]["reason"] == f"information provided by submitter:tester with documents {document_id}"
    )


async def test_an_answer_with_neither_note_nor_documents_is_422(stack: Stack, denied_claim: dict[str, Any]) -> None:
    response = await stack.api.post(
        f"/v1/claims/{denied_claim['claim_id']}/information", json={}, headers=stack.headers
    )
    assert response.status_code == 422
    assert "note, document_ids, or both" in response.text


async def test_an_adjuster_set_away_hands_their_claims_in_review_to_others_by_the_rules(stack: Stack) -> None:
    """A fresh adjuster of the team holds one claim (a supervisor gave it to them); set away, the claim goes to
    someone else by the rules, with the reason, and the answer says where it went."""
    admin = auth(Role.ADMIN, sub="root", org=None)
    holder = f"handover-{uuid.uuid4().hex[:8]}"
    added = await stack.api.post(
        "/v1/adjusters",
        # skilled for another payer only: the rules never give them this module's claims, only carol does
        json={
            "adjuster_id": holder,
            "name": "Handover Adjuster",
            "payer_ids": ["SANDBOX-X12"],
            "authority_limit": "5000.00",
            "team": "review",
        },
        headers=admin,
    )
    assert added.status_code == 201, added.text
    claim_id = await stack.submit(member("DENY"))
    await stack.wait_for(claim_id, "in_review")
    given = await stack.api.post(
        f"/v1/claims/{claim_id}/reassign",
        json={"adjuster_id": holder, "reason": "training"},
        headers=auth(Role.SUPERVISOR, sub="carol", org=None),
    )
    assert given.status_code == 200, given.text
    try:
        away = await stack.api.patch(f"/v1/adjusters/{holder}", json={"status": "away"}, headers=admin)
        assert away.status_code == 200, away.text
        assert away.json()["handover"]["not_reassigned"] == {}
        assert list(away.json()["handover"]["reassigned"]) == [claim_id]
        new = away.json()["handover"]["reassigned"][claim_id]
        assert new != holder
        claim = await stack.read(claim_id, headers=auth(Role.ADJUSTER, sub=new, org=None))
        assert claim["assigned_adjuster"] == new
        assert claim["status_history"][-1]["reason"] == f"reassigned from {holder} to {new} by admin:root"
    finally:
        inactive = await stack.api.patch(f"/v1/adjusters/{holder}", json={"status": "inactive"}, headers=admin)
        assert inactive.status_code == 200, inactive.text
