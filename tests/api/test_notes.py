"""Notes (a decision's note, the information provided, a cancellation's reason): stored in the database before
the update that names them by id, shown on the claim's history, never in the workflow's history."""

from __future__ import annotations

import base64
import json
import uuid
from typing import Any

import pytest
from sqlalchemy import text

from api.auth import Role
from db.models.claim_note import NOTE_BODY_MAX_CHARS
from tests.api.test_claim_lifecycle import member
from tests.support.stack import Stack, auth


def unique(what: str) -> str:
    return f"{what} {uuid.uuid4().hex}"


async def notes_of(stack: Stack, claim_id: str) -> list[tuple[str, str]]:
    """The claim's note rows: (kind, body), oldest first."""
    async with stack.sessions() as session:
        rows = await session.execute(
            text("SELECT kind, body FROM claim_note WHERE claim_id = :claim_id ORDER BY created_at"),
            {"claim_id": claim_id},
        )
        return [(row.kind, row.body) for row in rows]


async def workflow_history_text(stack: Stack, claim_id: str) -> str:
    """The workflow's history as JSON, with every payload decoded (payload data is base64 in the JSON)."""
    history = await stack.temporal.get_workflow_handle(f"claim-{claim_id}").fetch_history()
    document = json.loads(history.to_json())
    decoded: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if isinstance(node.get("data"), str) and "metadata" in node:
                decoded.append(base64.b64decode(node["data"]).decode("utf-8", "replace"))
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(document)
    return "\n".join([json.dumps(document), *decoded])


def entry(claim: dict[str, Any], status: str) -> dict[str, Any]:
    """The last history entry with this status."""
    return [e for e in claim["status_history"] if e["status"] == status][-1]


async def test_decision_and_information_notes_are_on_the_history_and_never_in_the_workflows_history(
    stack: Stack,
) -> None:
    claim_id = await stack.submit(member("PEND"))
    claim = await stack.wait_for(claim_id, "in_review")
    adjuster = auth(Role.ADJUSTER, sub=claim["assigned_adjuster"], org=None)
    asked, answered, approved = unique("send the lab requisition"), unique("requisition as DOC-9"), unique("complete")

    response = await stack.api.post(
        f"/v1/claims/{claim_id}/decision", json={"action": "request_info", "note": asked}, headers=adjuster
    )
    assert response.status_code == 200, response.text
    waiting = await stack.wait_for(claim_id, "info_requested")  # still moving: the live history, notes merged in
    assert (entry(waiting, "info_requested")["note"], entry(waiting, "info_requested")["note_kind"]) == (
        asked,
        "decision",
    )
    response = await stack.api.post(
        f"/v1/claims/{claim_id}/information", json={"note": answered}, headers=stack.headers
    )
    assert response.status_code == 200, response.text
    await stack.wait_for(claim_id, "in_review")
    response = await stack.api.post(
        f"/v1/claims/{claim_id}/decision", json={"action": "approve", "note": approved}, headers=adjuster
    )
    assert response.status_code == 200, response.text

    claim = await stack.wait_for(claim_id, "closed")  # final: the record's history alone
    noted = [(e["status"], e["note"], e["note_kind"]) for e in claim["status_history"] if e["note"] is not None]
    assert noted == [
        ("info_requested", asked, "decision"),
        ("in_review", answered, "information"),
        ("approved", approved, "decision"),
    ]
    assert entry(claim, "closed")["note"] is None and entry(claim, "closed")["note_kind"] is None
    assert await notes_of(stack, claim_id) == [("decision", asked), ("information", answered), ("decision", approved)]

    history = await workflow_history_text(stack, claim_id)
    assert '"note_id":"' in history  # the search reads the payloads: the updates' note ids are there
    for note in (asked, answered, approved):
        assert note not in history


async def test_cancellation_reason_is_on_the_history_and_never_in_the_workflows_history(stack: Stack) -> None:
    claim_id = await stack.submit(member("DENY"))
    await stack.wait_for(claim_id, "in_review")
    reason = unique("billed in error")
    response = await stack.api.post(f"/v1/claims/{claim_id}/cancel", json={"reason": reason}, headers=stack.headers)
    assert response.status_code == 200, response.text
    claim = await stack.wait_for(claim_id, "cancelled")
    cancelled = entry(claim, "cancelled")
    assert (cancelled["note"], cancelled["note_kind"], cancelled["actor"]) == (
        reason,
        "cancellation",
        "submitter:tester",
    )
    assert reason not in await workflow_history_text(stack, claim_id)


async def test_cancellation_without_a_reason_stores_no_note(stack: Stack) -> None:
    claim_id = await stack.submit(member("DENY"))
    await stack.wait_for(claim_id, "in_review")
    response = await stack.api.post(f"/v1/claims/{claim_id}/cancel", headers=stack.headers)
    assert response.status_code == 200, response.text
    claim = await stack.wait_for(claim_id, "cancelled")
    assert entry(claim, "cancelled")["note"] is None
    assert await notes_of(stack, claim_id) == []


async def test_refused_decisions_leave_no_note_row(stack: Stack) -> None:
    claim_id = await stack.submit(member("DENY"))
    claim = await stack.wait_for(claim_id, "in_review")
    assigned = claim["assigned_adjuster"]
    other = "bob" if assigned == "alice" else "alice"
    too_much = {"action": "approve", "lines": [{"line_number": 1, "approved_amount": "99.00"}], "note": unique("x")}
    not_theirs = {"action": "approve", "note": unique("y")}

    refused = await stack.api.post(
        f"/v1/claims/{claim_id}/decision", json=too_much, headers=auth(Role.ADJUSTER, sub=assigned, org=None)
    )
    not_visible = await stack.api.post(
        f"/v1/claims/{claim_id}/decision", json=not_theirs, headers=auth(Role.ADJUSTER, sub=other, org=None)
    )

    assert refused.status_code == 422, refused.text
    assert not_visible.status_code == 404, not_visible.text
    assert await notes_of(stack, claim_id) == []
    assert (await stack.read(claim_id))["status"] == "in_review"
    await stack.api.post(f"/v1/claims/{claim_id}/cancel", headers=stack.headers)


async def test_information_not_requested_leaves_no_note_row(stack: Stack) -> None:
    claim_id = await stack.submit(member("DENY"))
    await stack.wait_for(claim_id, "in_review")
    response = await stack.api.post(
        f"/v1/claims/{claim_id}/information", json={"note": unique("unasked")}, headers=stack.headers
    )
    assert response.status_code == 409, response.text
    assert await notes_of(stack, claim_id) == []
    await stack.api.post(f"/v1/claims/{claim_id}/cancel", headers=stack.headers)


@pytest.mark.parametrize(
    ("route", "body", "path"),
    [
        ("decision", {"action": "request_info", "note": "x" * (NOTE_BODY_MAX_CHARS + 1)}, "note"),
        ("information", {"note": "x" * (NOTE_BODY_MAX_CHARS + 1)}, "note"),
        ("cancel", {"reason": "x" * (NOTE_BODY_MAX_CHARS + 1)}, "reason"),
    ],
)
async def test_note_longer_than_the_database_keeps_is_422_with_its_path(
    stack: Stack, route: str, body: dict[str, Any], path: str
) -> None:
    headers = auth(Role.SUPERVISOR, sub="carol", org=None) if route == "decision" else stack.headers
    response = await stack.api.post(f"/v1/claims/{'0' * 32}/{route}", json=body, headers=headers)
    assert response.status_code == 422, response.text
    assert [e["path"] for e in response.json()["errors"]] == [path]
    assert str(NOTE_BODY_MAX_CHARS) in response.json()["detail"]
