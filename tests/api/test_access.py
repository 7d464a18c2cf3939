"""Who may do what: tokens, roles and organizations."""

from __future__ import annotations

import hashlib
import hmac
import time
from datetime import UTC, datetime, timedelta

from api.auth import Role, mint_token
from tests.api.test_claim_lifecycle import member
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
