"""Integrations per organization and payer, over the real stack: a claim without an enabled integration waits in
`ready` until an operator submits it, once; the admin API; an inactive payer; the dev default."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from api.auth import Role
from tests.activities.test_x12_837p import LAB_ADDRESS, PATIENT_ADDRESS
from tests.api.test_claim_lifecycle import member, statuses
from tests.support.database import owner_url
from tests.support.stack import Stack, auth
from workers.settings import Environment, Settings

ADMIN = auth(Role.ADMIN, sub="root", org=None)


def new_org() -> str:
    return f"org-int-{uuid.uuid4().hex[:10]}"


def submitter(org: str) -> dict[str, str]:
    return auth(Role.SUBMITTER, org=org)


async def add_integration(stack: Stack, org: str, **fields: Any) -> dict[str, Any]:
    body = {"integration_id": "sandbox", "processor": "sandbox", "adapter": "json", "is_default": True, **fields}
    response = await stack.api.post(f"/v1/organizations/{org}/integrations", json=body, headers=ADMIN)
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


async def submit(stack: Stack, org: str, body: dict[str, Any]) -> str:
    response = await stack.api.post("/v1/claims", json=body, headers=submitter(org))
    assert response.status_code == 202, response.text
    claim_id: str = response.json()["claim_id"]
    return claim_id


async def test_claim_without_an_enabled_integration_waits_ready_and_is_sent_once_when_submitted(stack: Stack) -> None:
    org = new_org()
    await add_integration(stack, org, enabled=False, credentials_ref="vault:claimflow/sandbox")
    body = member("M")
    body["patient"]["address"] = PATIENT_ADDRESS  # what an 837P needs
    body["billing_provider"]["address"] = LAB_ADDRESS
    claim_id = await submit(stack, org, body)
    claim = await stack.wait_for(claim_id, "ready", headers=submitter(org))
    assert statuses(claim) == ["received", "validating", "ready"]
    assert await stack.ledger_for(claim_id) == []  # validated and snapshotted, sent nowhere
    x12 = await stack.api.get(f"/v1/claims/{claim_id}/x12/837", headers=submitter(org))
    assert x12.status_code == 200, x12.text  # its 837P can be inspected (and sent by hand) while it waits
    assert x12.text.startswith("ISA*")

    refused = await stack.api.post(f"/v1/claims/{claim_id}/submit", headers=submitter(org))
    assert refused.status_code == 409, refused.text
    assert refused.json()["code"] == "integration_not_enabled"
    assert "integration sandbox" in refused.json()["detail"]
    assert (await stack.read(claim_id, submitter(org)))["status"] == "ready"

    enabled = await stack.api.patch(
        f"/v1/organizations/{org}/integrations/sandbox", json={"enabled": True}, headers=ADMIN
    )
    assert enabled.status_code == 200, enabled.text
    assert enabled.json()["enabled"] is True
    first, second = await asyncio.gather(
        stack.api.post(f"/v1/claims/{claim_id}/submit", headers=submitter(org)),
        stack.api.post(f"/v1/claims/{claim_id}/submit", headers=submitter(org)),
    )
    answers = sorted([first, second], key=lambda response: response.status_code)
    assert [response.status_code for response in answers] == [200, 409], [r.text for r in answers]
    assert answers[0].json()["status"] in {"submitted", "pending"}
    assert answers[1].json()["code"] == "not_ready"
    claim = await stack.wait_for(claim_id, "closed", headers=submitter(org))
    assert statuses(claim) == ["received", "validating", "ready", "submitted", "pending", "approved", "paid", "closed"]
    [ledger] = await stack.ledger_for(claim_id)
    assert ledger["submissions_applied"] == 1


async def test_ready_claim_can_be_cancelled(stack: Stack) -> None:
    org = new_org()
    await add_integration(stack, org, enabled=False)
    claim_id = await submit(stack, org, member("M"))
    await stack.wait_for(claim_id, "ready", headers=submitter(org))
    response = await stack.api.post(f"/v1/claims/{claim_id}/cancel", headers=submitter(org))
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "cancelled"
    assert await stack.ledger_for(claim_id) == []


async def test_payer_route_sends_a_payer_through_its_own_integration(stack: Stack) -> None:
    """The default is disabled, but the payer's route names an enabled one: the claim goes straight through."""
    org = new_org()
    await add_integration(stack, org, enabled=False)
    await add_integration(stack, org, integration_id="acme-ch", processor="sandbox", is_default=False, enabled=True)
    route = await stack.api.put(
        f"/v1/organizations/{org}/payer-routes/sandbox", json={"integration_id": "acme-ch"}, headers=ADMIN
    )
    assert route.status_code == 200, route.text
    assert route.json() == {"payer_id": "SANDBOX", "integration_id": "acme-ch"}
    claim_id = await submit(stack, org, member("M"))
    claim = await stack.wait_for(claim_id, "closed", headers=submitter(org))
    assert "ready" not in statuses(claim)


async def test_an_organization_without_integrations_gets_the_sandbox_ones_in_dev(stack: Stack) -> None:
    """The tests' stack runs as `claimflow dev` does: on its first claim an organization gets the sandbox's
    integrations, enabled — JSON by default, X12 for SANDBOX-X12 through a route."""
    org = new_org()
    claim_id = await submit(stack, org, member("M"))
    await stack.wait_for(claim_id, "closed", headers=submitter(org))
    listing = await stack.api.get(f"/v1/organizations/{org}/integrations", headers=ADMIN)
    assert listing.status_code == 200, listing.text
    found = {item["integration_id"]: item for item in listing.json()["data"]}
    assert {name: (item["adapter"], item["enabled"], item["is_default"]) for name, item in found.items()} == {
        "sandbox": ("json", True, True),
        "sandbox-x12": ("x12", True, False),
    }
    assert listing.json()["routes"] == [{"payer_id": "SANDBOX-X12", "integration_id": "sandbox-x12"}]


def test_the_dev_default_is_on_outside_production_and_never_in_production(monkeypatch: pytest.MonkeyPatch) -> None:
    assert Settings(_env_file=None).auto_integrations is True
    monkeypatch.setenv("CLAIMFLOW_DEV_AUTO_INTEGRATIONS", "false")
    assert Settings(_env_file=None).auto_integrations is False
    production = Settings.model_construct(environment=Environment.PRODUCTION, dev_auto_integrations=True)
    assert production.auto_integrations is False


async def test_admin_api_refuses_what_it_cannot_keep(stack: Stack) -> None:
    org = new_org()
    base = f"/v1/organizations/{org}"
    await add_integration(stack, org)
    again = await stack.api.post(
        f"{base}/integrations",
        json={"integration_id": "sandbox", "processor": "sandbox", "adapter": "json"},
        headers=ADMIN,
    )
    assert again.status_code == 409, again.text
    assert again.json()["code"] == "integration_exists"
    bad_id = await stack.api.post(
        f"{base}/integrations", json={"integration_id": "Has Spaces", "processor": "x", "adapter": "x12"}, headers=ADMIN
    )
    assert bad_id.status_code == 422, bad_id.text
    assert bad_id.json()["errors"][0]["path"] == "integration_id"
    bad_adapter = await stack.api.post(
        f"{base}/integrations", json={"integration_id": "x", "processor": "x", "adapter": "soap"}, headers=ADMIN
    )
    assert bad_adapter.status_code == 422, bad_adapter.text
    missing = await stack.api.patch(f"{base}/integrations/nope", json={"enabled": True}, headers=ADMIN)
    assert missing.status_code == 404, missing.text
    null = await stack.api.patch(f"{base}/integrations/sandbox", json={"enabled": None}, headers=ADMIN)
    assert null.status_code == 422, null.text
    no_integration = await stack.api.put(f"{base}/payer-routes/SANDBOX", json={"integration_id": "nope"}, headers=ADMIN)
    assert no_integration.status_code == 422, no_integration.text
    assert no_integration.json()["errors"][0]["path"] == "integration_id"
    no_payer = await stack.api.put(f"{base}/payer-routes/NOPAYER", json={"integration_id": "sandbox"}, headers=ADMIN)
    assert no_payer.status_code == 404, no_payer.text
    # a second default replaces the first
    await add_integration(stack, org, integration_id="other", processor="inmediata", adapter="x12")
    listing = (await stack.api.get(f"{base}/integrations", headers=ADMIN)).json()
    assert {item["integration_id"]: item["is_default"] for item in listing["data"]} == {"sandbox": False, "other": True}
    submitter_call = await stack.api.get(f"{base}/integrations", headers=submitter(org))
    assert submitter_call.status_code == 403


async def test_integration_changes_are_audited_without_the_credentials_reference(
    stack: Stack, sessions: async_sessionmaker[AsyncSession]
) -> None:
    org = new_org()
    await add_integration(stack, org, credentials_ref="vault:secret/inmediata-prod")
    patched = await stack.api.patch(
        f"/v1/organizations/{org}/integrations/sandbox",
        json={"enabled": True, "credentials_ref": "vault:secret/inmediata-next"},
        headers=ADMIN,
    )
    assert patched.status_code == 200, patched.text
    async with sessions() as session:
        rows = (
            await session.execute(
                text(
                    "SELECT action, actor, details FROM audit_log WHERE details->>'org_id' = :org "
                    "AND action LIKE 'integration.%' ORDER BY id"
                ),
                {"org": org},
            )
        ).all()
    assert [(action, actor) for action, actor, _ in rows] == [
        ("integration.created", "admin:root"),
        ("integration.updated", "admin:root"),
    ]
    assert "inmediata" not in str([details for _, _, details in rows])
    assert rows[0].details["credentials_ref_set"] is True
    assert rows[1].details["changes"] == {"enabled": True, "credentials_ref_set": True}


@pytest.fixture
def inactive_payer(database_url: str) -> Iterator[str]:
    """A payer marked inactive, written as the tables' owner (the application's role may only read payers)."""
    payer_id = f"GONE{uuid.uuid4().hex[:6].upper()}"
    engine = create_engine(owner_url(database_url))
    with engine.begin() as connection:
        connection.execute(
            text("INSERT INTO payer (payer_id, name, active) VALUES (:id, 'Retired plan (fictional)', false)"),
            {"id": payer_id},
        )
    yield payer_id
    engine.dispose()


async def test_a_claim_to_an_inactive_payer_is_refused_naming_the_payer(stack: Stack, inactive_payer: str) -> None:
    body = member("M")
    body["insurance"]["payer_id"] = inactive_payer
    response = await stack.api.post("/v1/claims", json=body, headers=stack.headers)
    assert response.status_code == 422, response.text
    problem = response.json()
    assert inactive_payer in problem["detail"]
    [error] = problem["errors"]
    assert (error["path"], error["rule"]) == ("insurance.payer_id", "payer.active")
    assert "inactive" in error["message"]
