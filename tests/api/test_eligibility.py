"""POST /v1/eligibility over the real stack: the sandbox answers over HTTP, in JSON (SANDBOX) and as a 271 to a 270
in the CORE envelope (SANDBOX-X12); inactive coverage, demographic mismatches, a payer that is down (503 with
Retry-After), bad input (422 naming the field), who may ask, the organization's integration choosing the dialect (and
none enabled: 409, the payer not asked), and an audit entry that holds no PHI."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.client import Client

from api.app import create_app
from api.auth import Role
from db.models.audit_log import AuditLog
from tests.api.test_integrations import add_integration
from tests.support.stack import Stack, auth, config_for_tests, free_port
from workers.api_config import eligibility_exchange, x12_integration
from workers.settings import Settings

DIALECTS = ["SANDBOX", "SANDBOX-X12"]


#: The sandbox's answer for an active member (its plan and amounts).
ACTIVE_ANSWER = {
    "active": True,
    "coverage": "active",
    "plan": "Sandbox PPO Gold",
    "copay": "10.00",
    "coinsurance_percent": "20.00",
    "deductible": "500.00",
    "deductible_remaining": "125.00",
    "out_of_pocket_remaining": "2000.00",
    "in_network": True,
    "prior_authorization_required": False,
    "mismatches": [],
}


def inquiry(member_id: str = "M123456", payer_id: str = "SANDBOX", **changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "patient": {
            "first_name": "Ana",
            "last_name": "Ruiz",
            "date_of_birth": "1980-04-02",
            "sex": "F",
            "member_id": member_id,
        },
        "insurance": {"payer_id": payer_id, "member_id": member_id, "group_number": "G100"},
        "provider": {"npi": "1234567893", "name": "Acme Lab"},
        "service_date": "2026-11-20",
        "service_type_code": "5",
    }
    body.update(changes)
    return body


async def ask(stack: Stack, body: dict[str, Any], headers: dict[str, str] | None = None) -> httpx.Response:
    return await stack.api.post("/v1/eligibility", json=body, headers=headers or stack.headers)


async def answered(stack: Stack, body: dict[str, Any]) -> dict[str, Any]:
    response = await ask(stack, body)
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()
    return answer


@pytest.mark.parametrize("payer_id", DIALECTS)
async def test_an_active_member_has_plan_copay_coinsurance_deductible_and_remaining(
    stack: Stack, payer_id: str
) -> None:
    assert await answered(stack, inquiry(payer_id=payer_id)) == ACTIVE_ANSWER


@pytest.mark.parametrize("payer_id", DIALECTS)
async def test_an_inactive_member_has_no_plan_or_amounts(stack: Stack, payer_id: str) -> None:
    answer = await answered(stack, inquiry("INACTIVE-7", payer_id))
    assert answer["active"] is False and answer["coverage"] == "inactive"
    assert {k for k, v in answer.items() if v is not None} == {"active", "coverage", "mismatches"}


@pytest.mark.parametrize("payer_id", DIALECTS)
async def test_a_demographic_mismatch_names_the_fields_not_the_payers_values(stack: Stack, payer_id: str) -> None:
    response = await ask(stack, inquiry("MISMATCH-3", payer_id))
    assert response.status_code == 200, response.text
    assert response.json()["active"] is True
    assert response.json()["mismatches"] == ["last_name", "date_of_birth"]
    assert "HALE" not in response.text and "1979" not in response.text  # the payer's record stays with the payer


@pytest.mark.parametrize(
    ("prefix", "field", "value"),
    [("OON-1", "in_network", False), ("PRIORAUTH-1", "prior_authorization_required", True)],
)
@pytest.mark.parametrize("payer_id", DIALECTS)
async def test_network_and_prior_authorisation_flags(
    stack: Stack, payer_id: str, prefix: str, field: str, value: bool
) -> None:
    answer = await answered(stack, inquiry(prefix, payer_id))
    assert answer[field] is value
    if prefix.startswith("OON"):
        assert answer["coinsurance_percent"] == "40.00"  # the out-of-network benefits


async def test_the_payer_down_is_503_with_retry_after(stack: Stack) -> None:
    async with httpx.AsyncClient(base_url=stack.sandbox_url) as sandbox:
        await sandbox.post("/_sandbox/faults", json={"error_rate": 1.0, "endpoints": ["eligibility"]})
        try:
            response = await ask(stack, inquiry())
        finally:
            await sandbox.post("/_sandbox/faults", json={})
        book = (await sandbox.get("/_sandbox/ledger")).json()
    assert response.status_code == 503, response.text
    assert response.headers["Retry-After"] == "30"
    assert response.json()["code"] == "payer_unavailable"
    assert book["faults_by_kind"]["error"] >= 3  # retried before giving up


@pytest.fixture
async def unreachable_payer(
    temporal: Client, sessions: async_sessionmaker[AsyncSession]
) -> AsyncIterator[httpx.AsyncClient]:
    """The API with its processor at a port nobody listens on."""
    exchange = eligibility_exchange(
        f"http://127.0.0.1:{free_port()}", x12=x12_integration(Settings(_env_file=None)), auto_provision=True
    )
    app = create_app(config_for_tests(eligibility=exchange), lambda: _client(temporal), sessions)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://claimflow.test") as api,
    ):
        yield api


async def _client(temporal: Client) -> Client:
    return temporal


@pytest.mark.parametrize("payer_id", DIALECTS)
async def test_an_unreachable_processor_is_503_in_both_dialects(
    unreachable_payer: httpx.AsyncClient, payer_id: str
) -> None:
    response = await unreachable_payer.post("/v1/eligibility", json=inquiry(payer_id=payer_id), headers=auth())
    assert response.status_code == 503, response.text
    assert response.headers["Retry-After"] == "30" and "try again later" in response.json()["detail"]


@pytest.mark.parametrize(
    ("change", "path"),
    [
        ({"provider": {"npi": "1234567890", "name": "Acme Lab"}}, "provider.npi"),
        ({"service_type_code": "lab"}, "service_type_code"),
        ({"service_date": "20-11-2026"}, "service_date"),
        (
            {
                "patient": {
                    "first_name": "Ana",
                    "last_name": "Ru*iz",
                    "date_of_birth": "1980-04-02",
                    "sex": "F",
                    "member_id": "M1",
                }
            },
            "patient.last_name",
        ),
        ({"insurance": {"payer_id": "NOSUCHPAYER", "member_id": "M1"}}, "insurance.payer_id"),
    ],
)
async def test_bad_input_is_422_naming_the_field(stack: Stack, change: dict[str, Any], path: str) -> None:
    response = await ask(stack, {**inquiry(), **change})
    assert response.status_code == 422, response.text
    assert [error["path"] for error in response.json()["errors"]] == [path]


async def test_a_missing_field_is_422_naming_it(stack: Stack) -> None:
    body = inquiry()
    del body["service_date"]
    response = await ask(stack, body)
    assert response.status_code == 422
    assert [error["path"] for error in response.json()["errors"]] == ["service_date"]


@pytest.mark.parametrize("role", [Role.ADJUSTER, Role.SUPERVISOR, Role.ADMIN])
async def test_only_submitters_may_ask(stack: Stack, role: Role) -> None:
    response = await ask(stack, inquiry(), auth(role, "someone", None))
    assert response.status_code == 403


async def test_a_submitter_of_any_organization_may_ask_about_any_member(stack: Stack) -> None:
    """A member belongs to no organization: a lab checks its patient's coverage before any claim exists."""
    first = await ask(stack, inquiry("M777"), auth(Role.SUBMITTER, "a", "org-elig-a"))
    second = await ask(stack, inquiry("M777"), auth(Role.SUBMITTER, "b", "org-elig-b"))
    assert first.status_code == second.status_code == 200
    assert first.json() == second.json()


async def test_each_inquiry_is_audited_without_phi(stack: Stack) -> None:
    await answered(stack, inquiry("MISMATCH-AUDIT", "SANDBOX-X12"))
    async with stack.sessions() as session:
        entry = await session.scalar(
            select(AuditLog).where(AuditLog.action == "eligibility.checked").order_by(AuditLog.id.desc()).limit(1)
        )
    assert entry is not None and entry.claim_id is None and entry.actor == "submitter:tester"
    assert entry.details == {
        "organization": "org-test",
        "payer_id": "SANDBOX-X12",
        "service_type_code": "5",
        "outcome": "answered",
        "coverage": "active",
        "mismatches": ["last_name", "date_of_birth"],
    }


async def sandbox_counters(stack: Stack) -> dict[str, int]:
    async with httpx.AsyncClient(base_url=stack.sandbox_url) as sandbox:
        book: dict[str, Any] = (await sandbox.get("/_sandbox/ledger")).json()
    return {name: book.get(name, 0) for name in ("eligibility_requests", "core_requests")}


async def test_the_organizations_integration_decides_the_dialect_not_the_payer_id(stack: Stack) -> None:
    """An organization whose only integration is the JSON one asks SANDBOX-X12 in JSON: no CORE envelope is sent."""
    org = f"org-elig-{uuid.uuid4().hex[:8]}"
    await add_integration(stack, org, enabled=True)
    before = await sandbox_counters(stack)
    response = await ask(stack, inquiry(payer_id="SANDBOX-X12"), auth(Role.SUBMITTER, "lab", org))
    assert response.status_code == 200, response.text
    after = await sandbox_counters(stack)
    assert after["eligibility_requests"] == before["eligibility_requests"] + 1
    assert after["core_requests"] == before["core_requests"]


async def test_without_an_enabled_integration_the_payer_is_not_asked(stack: Stack) -> None:
    org = f"org-elig-{uuid.uuid4().hex[:8]}"
    await add_integration(stack, org, enabled=False)
    before = await sandbox_counters(stack)
    response = await ask(stack, inquiry(), auth(Role.SUBMITTER, "lab", org))
    assert response.status_code == 409, response.text
    assert response.json()["code"] == "integration_not_enabled"
    assert await sandbox_counters(stack) == before
