"""Who may do what: tokens, roles and organizations; which claims each role sees, and which of their fields."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import text

from api.auth import Role, mint_token
from api.presenters import RULE_SUMMARIES
from tests.api.test_claim_lifecycle import member
from tests.support.database import owner_session
from tests.support.stack import JWT_ISSUER, JWT_SECRET, WEBHOOK_SECRET, Stack, auth


async def test_no_token_is_401_and_says_how_to_get_one(stack: Stack) -> None:
    response = await stack.api.get("/v1/claims")
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert "claimflow token" in response.json()["detail"]


async def test_token_signed_with_another_key_is_401(stack: Stack) -> None:
    forged = mint_token(
        sub="x",
        role=Role.ADMIN,
        org=None,
        secret="another-key-of-the-same-length-0123456789",
        issuer=JWT_ISSUER,
        ttl=timedelta(hours=1),
    )
    response = await stack.api.get("/v1/claims", headers={"Authorization": f"Bearer {forged}"})
    assert response.status_code == 401


async def test_expired_token_is_401(stack: Stack) -> None:
    an_hour_ago = datetime.now(UTC) - timedelta(hours=1)  # past the minute of clock skew tolerated
    expired = mint_token(
        sub="x",
        role=Role.ADMIN,
        org=None,
        secret=JWT_SECRET,
        issuer=JWT_ISSUER,
        ttl=timedelta(minutes=30),
        now=an_hour_ago,
    )
    response = await stack.api.get("/v1/claims", headers={"Authorization": f"Bearer {expired}"})
    assert response.status_code == 401
    assert "expired" in response.json()["detail"].lower()


async def test_adjuster_cannot_submit_claims(stack: Stack) -> None:
    response = await stack.api.post("/v1/claims", json=member("M"), headers=auth(Role.ADJUSTER, sub="alice", org=None))
    assert response.status_code == 403
    assert "submitter" in response.json()["detail"]


async def test_submitter_cannot_see_another_organizations_claim(stack: Stack) -> None:
    claim_id = await stack.submit(member("DENY"))
    await stack.wait_for(claim_id, "in_review")  # a claim its submitter may cancel
    outsider = auth(Role.SUBMITTER, sub="mallory", org="org-other")
    assert (await stack.api.get(f"/v1/claims/{claim_id}", headers=outsider)).status_code == 404
    assert (await stack.api.post(f"/v1/claims/{claim_id}/cancel", headers=outsider)).status_code == 404
    listed = (await stack.api.get("/v1/claims", headers=outsider)).json()
    assert claim_id not in {c["claim_id"] for c in listed["data"]}
    assert (await stack.api.post(f"/v1/claims/{claim_id}/cancel", headers=stack.headers)).status_code == 200


async def test_unknown_claim_id_is_404(stack: Stack) -> None:
    assert (await stack.api.get("/v1/claims/" + "0" * 32, headers=stack.headers)).status_code == 404
    assert (await stack.api.get("/v1/claims/not-a-claim", headers=stack.headers)).status_code == 404


async def test_list_filters_by_status_and_pages_with_a_cursor(stack: Stack) -> None:
    org = auth(Role.SUBMITTER, sub="lister", org="org-list")
    ids = []
    for _ in range(3):
        response = await stack.api.post("/v1/claims", json=member("NEVER"), headers=org)
        ids.append(response.json()["claim_id"])
    for claim_id in ids:
        await stack.wait_for(claim_id, "pending", headers=org)
    first = (await stack.api.get("/v1/claims", params={"status": "pending", "limit": 2}, headers=org)).json()
    assert first["count"] == 2 and first["next_cursor"]
    second = (
        await stack.api.get(
            "/v1/claims", params={"status": "pending", "limit": 2, "cursor": first["next_cursor"]}, headers=org
        )
    ).json()
    seen = [c["claim_id"] for c in first["data"] + second["data"]]
    assert sorted(seen) == sorted(ids)
    assert all(c["status"] == "pending" for c in first["data"] + second["data"])
    bad = await stack.api.get("/v1/claims", params={"cursor": "not-a-cursor"}, headers=org)
    assert bad.status_code == 400
    for claim_id in ids:  # the processor holds them (not cancellable): stop their workflows
        await stack.temporal.get_workflow_handle(f"claim-{claim_id}").terminate(reason="test cleanup")


WEBHOOK_PATH = "/v1/webhooks/processor/" + "0" * 32


def signed_webhook(body: bytes, *, path: str = WEBHOOK_PATH, at: float | None = None) -> dict[str, str]:
    """The headers the processor sends: timestamp, and v1= HMAC-SHA256 of timestamp.path.body."""
    timestamp = str(int(at if at is not None else time.time()))
    digest = hmac.new(WEBHOOK_SECRET.encode(), f"{timestamp}.{path}.".encode() + body, hashlib.sha256).hexdigest()
    return {"X-Sandbox-Timestamp": timestamp, "X-Sandbox-Signature": f"v1={digest}"}


async def test_webhook_with_a_bad_signature_is_refused(stack: Stack) -> None:
    body = b'{"payer_claim_id":"X"}'
    headers = {**signed_webhook(body), "X-Sandbox-Signature": "v1=00"}
    response = await stack.api.post(WEBHOOK_PATH, content=body, headers=headers)
    assert response.status_code == 401


async def test_webhook_signed_for_another_claims_path_is_refused(stack: Stack) -> None:
    body = b'{"payer_claim_id":"X"}'
    moved = signed_webhook(body, path="/v1/webhooks/processor/" + "1" * 32)
    assert (await stack.api.post(WEBHOOK_PATH, content=body, headers=moved)).status_code == 401


async def test_stale_or_replayed_webhooks_are_refused(stack: Stack) -> None:
    body = b'{"payer_claim_id":"X"}'
    stale = signed_webhook(body, at=time.time() - 600)
    assert (await stack.api.post(WEBHOOK_PATH, content=body, headers=stale)).status_code == 401
    fresh = signed_webhook(body)
    assert (await stack.api.post(WEBHOOK_PATH, content=body, headers=fresh)).status_code == 202  # no claim: no-op
    replayed = await stack.api.post(WEBHOOK_PATH, content=body, headers=fresh)
    assert replayed.status_code == 401
    assert "delivered already" in replayed.json()["detail"]


async def test_webhook_with_a_non_ascii_signature_is_401_not_500(stack: Stack) -> None:
    body = b'{"payer_claim_id":"X"}'
    headers = {**signed_webhook(body), "X-Sandbox-Signature": "v1=\u00e9t\u00e9".encode().decode("unicode_escape")}
    response = await stack.api.post(
        WEBHOOK_PATH, content=body, headers={k: v.encode("latin-1") for k, v in headers.items()}
    )
    assert response.status_code == 401


async def test_signed_webhook_that_is_not_a_notice_is_422(stack: Stack) -> None:
    body = b'{"not": "a notice"}'
    response = await stack.api.post(WEBHOOK_PATH, content=body, headers=signed_webhook(body))
    assert response.status_code == 422
    assert response.json()["errors"][0]["path"] == "body"


async def test_health_and_readiness(stack: Stack) -> None:
    assert (await stack.api.get("/healthz")).json() == {"status": "ok"}
    ready = await stack.api.get("/readyz")
    assert ready.status_code == 200
    assert ready.json()["checks"] == {"temporal": "ok", "database": "ok"}


# --- minimum necessary: who sees which claims, and which of their fields --------------------------------------

ADMIN = auth(Role.ADMIN, sub="root", org=None)
SUPERVISOR = auth(Role.SUPERVISOR, sub="carol", org=None)


def adjuster(sub: str) -> dict[str, str]:
    return auth(Role.ADJUSTER, sub=sub, org=None)


def other_than(assigned: str) -> str:
    return "bob" if assigned == "alice" else "alice"


async def listed(stack: Stack, headers: dict[str, str], **params: str) -> set[str]:
    response = await stack.api.get("/v1/claims", params={"limit": 200, **params}, headers=headers)
    assert response.status_code == 200, response.text
    return {c["claim_id"] for c in response.json()["data"]}


@pytest.fixture(scope="module")
async def asked_claim(stack: Stack) -> dict[str, Any]:
    """A claim of org-test the payer denied, whose adjuster asked for information with a note; as its submitter
    reads it. The patient has an address and the claim a bill id."""
    body = member("DENY")
    body["patient"]["address"] = {"line1": "1 Main St", "city": "Springfield", "state": "IL", "postal_code": "62701"}
    body["bill_ids"] = ["BILL-77"]
    claim_id = await stack.submit(body)
    claim = await stack.wait_for(claim_id, "in_review")
    asked = await stack.api.post(
        f"/v1/claims/{claim_id}/decision",
        json={"action": "request_info", "note": "send the requisition"},
        headers=adjuster(claim["assigned_adjuster"]),
    )
    assert asked.status_code == 200, asked.text
    return await stack.wait_for(claim_id, "info_requested")


@pytest.fixture(scope="module")
async def pending_claim(stack: Stack) -> AsyncIterator[str]:
    """A claim the processor holds: assigned to nobody, not in review."""
    claim_id = await stack.submit(member("NEVER"))
    await stack.wait_for(claim_id, "pending")
    yield claim_id
    await stack.temporal.get_workflow_handle(f"claim-{claim_id}").terminate(reason="test cleanup")


@pytest.fixture(scope="module")
async def west_team(stack: Stack) -> AsyncIterator[None]:
    """dave, supervisor of another team (west), for this module; he covers a payer no claim has, so is never
    assigned anything."""
    async with owner_session(stack.sessions) as session:  # the application's role may only read adjusters
        await session.execute(
            text(
                "INSERT INTO adjuster (adjuster_id, name, payer_ids, authority_limit, supervisor, active, team, "
                "created_at, updated_at) VALUES ('dave', 'Dave', '[\"NOBODY\"]', 100, true, true, 'west', now(), now())"
            )
        )
        await session.commit()
    yield
    async with owner_session(stack.sessions) as session:
        await session.execute(text("DELETE FROM adjuster WHERE adjuster_id = 'dave'"))
        await session.commit()


async def test_an_adjuster_reads_and_lists_only_the_claims_assigned_to_them(
    stack: Stack, asked_claim: dict[str, Any], pending_claim: str
) -> None:
    claim_id, assigned = asked_claim["claim_id"], asked_claim["assigned_adjuster"]
    other = adjuster(other_than(assigned))

    assert (await stack.api.get(f"/v1/claims/{claim_id}", headers=adjuster(assigned))).status_code == 200
    assert (await stack.api.get(f"/v1/claims/{claim_id}", headers=other)).status_code == 404
    assert (await stack.api.get(f"/v1/claims/{pending_claim}", headers=adjuster(assigned))).status_code == 404
    mine = await listed(stack, adjuster(assigned))
    assert claim_id in mine and pending_claim not in mine
    theirs = await listed(stack, other)
    assert claim_id not in theirs and pending_claim not in theirs
    assert await listed(stack, other, adjuster=assigned) == set()  # a filter narrows the scope, never widens it
    body = {"action": "approve"}
    assert (await stack.api.post(f"/v1/claims/{claim_id}/decision", json=body, headers=other)).status_code == 404


async def test_a_supervisor_sees_its_teams_claims_and_no_other_teams_supervisor_does(
    stack: Stack, asked_claim: dict[str, Any], pending_claim: str, west_team: None
) -> None:
    claim_id = asked_claim["claim_id"]
    dave = auth(Role.SUPERVISOR, sub="dave", org=None)

    assert (await stack.api.get(f"/v1/claims/{claim_id}", headers=SUPERVISOR)).status_code == 200
    assert claim_id in await listed(stack, SUPERVISOR)
    assert (await stack.api.get(f"/v1/claims/{claim_id}", headers=dave)).status_code == 404
    assert claim_id not in await listed(stack, dave)
    assert (await stack.api.post(f"/v1/claims/{claim_id}/cancel", headers=dave)).status_code == 404
    # a claim not in review and assigned to nobody is no team's
    assert (await stack.api.get(f"/v1/claims/{pending_claim}", headers=SUPERVISOR)).status_code == 404
    assert pending_claim not in await listed(stack, SUPERVISOR)


async def test_an_admin_reads_and_lists_every_organizations_claims(
    stack: Stack, asked_claim: dict[str, Any], pending_claim: str
) -> None:
    for claim_id in (asked_claim["claim_id"], pending_claim):
        assert (await stack.api.get(f"/v1/claims/{claim_id}", headers=ADMIN)).status_code == 200
    assert {asked_claim["claim_id"], pending_claim} <= await listed(stack, ADMIN)


async def test_each_role_sees_its_projection_of_a_claim(stack: Stack, asked_claim: dict[str, Any]) -> None:
    claim_id = asked_claim["claim_id"]
    full = asked_claim
    adjudication = await stack.read(claim_id, adjuster(asked_claim["assigned_adjuster"]))
    supervised = await stack.read(claim_id, SUPERVISOR)
    operations = await stack.read(claim_id, ADMIN)

    assert [v["projection"] for v in (full, adjudication, supervised, operations)] == [
        "full",
        "adjudication",
        "adjudication",
        "operations",
    ]
    patient = full["claim"]["patient"]
    assert patient["first_name"] and patient["last_name"] and patient["address"]["city"] == "Springfield"
    assert full["claim"]["bill_ids"] == ["BILL-77"]
    for view in (adjudication, supervised):
        seen = view["claim"]["patient"]
        assert seen["first_name"] is seen["last_name"] is seen["address"] is None
        assert seen["initials"] == patient["initials"] == (patient["first_name"][0] + patient["last_name"][0]).upper()
        assert (seen["member_id"], seen["date_of_birth"], seen["sex"]) == (
            patient["member_id"],
            patient["date_of_birth"],
            patient["sex"],
        )
        assert view["claim"]["bill_ids"] is None
        assert view["patient_control_number"] == full["patient_control_number"]
        assert "send the requisition" in [h["note"] for h in view["status_history"]]
    assert operations["claim"]["patient"] is None
    assert operations["patient_control_number"] is operations["claim"]["patient_control_number"] is None
    assert operations["claim"]["insurance"] == {
        "payer_id": full["claim"]["insurance"]["payer_id"],
        "member_id": None,
        "group_number": None,
        "plan": None,
    }
    assert all(h["note"] is None for h in operations["status_history"])
    # what every role needs is the same for all
    for key in ("claim_id", "status", "total_charge", "lines", "assigned_adjuster", "payer_id"):
        assert full[key] == adjudication[key] == operations[key]
    assert full["claim"]["diagnosis_codes"] == operations["claim"]["diagnosis_codes"]
    assert full["claim"]["lines"] == operations["claim"]["lines"]
    assert "Springfield" not in json.dumps(adjudication) + json.dumps(operations)
    assert patient["last_name"] not in json.dumps(adjudication) + json.dumps(operations)


async def test_a_listing_shows_the_admin_no_control_numbers(stack: Stack, asked_claim: dict[str, Any]) -> None:
    rows = (await stack.api.get("/v1/claims", params={"limit": 200}, headers=ADMIN)).json()
    assert rows["projection"] == "operations"
    [row] = [c for c in rows["data"] if c["claim_id"] == asked_claim["claim_id"]]
    assert row["patient_control_number"] is None
    own = (await stack.api.get("/v1/claims", params={"limit": 200}, headers=stack.headers)).json()
    assert own["projection"] == "full"
    [mine] = [c for c in own["data"] if c["claim_id"] == asked_claim["claim_id"]]
    assert mine["patient_control_number"] == asked_claim["patient_control_number"]


async def audit_rows(stack: Stack, actor: str, action: str) -> list[dict[str, Any]]:
    async with stack.sessions() as session:
        rows = await session.execute(
            text("SELECT claim_id, details FROM audit_log WHERE actor = :actor AND action = :action ORDER BY id"),
            {"actor": actor, "action": action},
        )
        return [{"claim_id": row.claim_id, "details": row.details} for row in rows]


async def test_every_listing_is_audited_with_its_filters_and_the_claims_it_showed(
    stack: Stack, asked_claim: dict[str, Any]
) -> None:
    sub = f"lister-{uuid.uuid4().hex[:8]}"
    headers = auth(Role.ADMIN, sub=sub, org=None)
    first = (await stack.api.get("/v1/claims", params={"payer_id": "SANDBOX", "limit": 1}, headers=headers)).json()
    assert first["count"] == 1 and first["next_cursor"]
    second = (
        await stack.api.get(
            "/v1/claims",
            params={"status": "info_requested", "limit": 1, "cursor": first["next_cursor"], "payer_id": "SANDBOX"},
            headers=headers,
        )
    ).json()

    rows = await audit_rows(stack, f"admin:{sub}", "claims.list")
    assert rows == [
        {
            "claim_id": None,
            "details": {
                "filters": {"payer_id": "SANDBOX"},
                "limit": 1,
                "from_cursor": False,
                "claim_ids": [c["claim_id"] for c in first["data"]],
                "count": 1,
            },
        },
        {
            "claim_id": None,
            "details": {
                "filters": {"status": "info_requested", "payer_id": "SANDBOX"},
                "limit": 1,
                "from_cursor": True,
                "claim_ids": [c["claim_id"] for c in second["data"]],
                "count": second["count"],
            },
        },
    ]


async def test_every_read_of_a_claim_is_audited(stack: Stack, asked_claim: dict[str, Any]) -> None:
    sub = f"reader-{uuid.uuid4().hex[:8]}"
    await stack.read(asked_claim["claim_id"], auth(Role.ADMIN, sub=sub, org=None))

    assert await audit_rows(stack, f"admin:{sub}", "claim.read") == [
        {"claim_id": asked_claim["claim_id"], "details": {}}
    ]


async def test_the_openapi_document_says_which_roles_see_a_field(stack: Stack) -> None:
    schemas = (await stack.api.get("/openapi.json")).json()["components"]["schemas"]

    assert "Submitter only" in schemas["PatientRead"]["properties"]["first_name"]["description"]
    assert "null for admins" in schemas["PatientRead"]["properties"]["member_id"]["description"]
    assert "null for admins" in schemas["ClaimSummaryRead"]["properties"]["patient_control_number"]["description"]
    assert "projection" in schemas["ClaimRead"]["description"]


async def test_an_admin_reads_validation_issues_with_the_rules_summary_not_a_message_from_the_claim(
    stack: Stack,
) -> None:
    body = member("M")
    body["lines"][0]["charge"] = "0.00"
    body["total_charge"] = "0.00"
    claim_id = await stack.submit(body)
    full = await stack.wait_for(claim_id, "invalid")
    operations = await stack.read(claim_id, ADMIN)

    pairs = list(zip(full["validation_errors"], operations["validation_errors"], strict=True))
    assert pairs
    for shown, summarised in pairs:
        assert (shown["rule_id"], shown["path"]) == (summarised["rule_id"], summarised["path"])
        assert summarised["message"] == RULE_SUMMARIES.get(
            shown["rule_id"], f"the claim fails the edit {shown['rule_id']}"
        )
    assert any(shown["message"] != summarised["message"] for shown, summarised in pairs)
