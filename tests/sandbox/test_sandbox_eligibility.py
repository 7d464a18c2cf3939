"""270/271 eligibility answers by member id prefix."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.sandbox.sandbox_testkit import ledger


def inquiry(member_id: str = "M123", **overrides: str) -> dict[str, str]:
    return {
        "payer_id": "SANDBOX1",
        "provider_npi": "1234567893",
        "member_id": member_id,
        "first_name": "Ada",
        "last_name": "Lovelace",
        "date_of_birth": "1980-12-10",
        "service_type": "30",
        **overrides,
    }


async def check(client: httpx.AsyncClient, member_id: str) -> dict[str, Any]:
    response = await client.post("/v1/eligibility", json=inquiry(member_id))
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()
    return answer


async def test_default_member_is_active_with_standard_benefits(client: httpx.AsyncClient) -> None:
    assert await check(client, "M123") == {
        "active": True,
        "plan": "Sandbox PPO Gold",
        "copay": "10.00",
        "coinsurance_percent": 20,
        "deductible": "500.00",
        "deductible_remaining": "125.00",
        "out_of_pocket_remaining": "2000.00",
        "in_network": True,
        "prior_authorization_required": False,
        "mismatches": [],
    }
    assert (await ledger(client))["eligibility_requests"] == 1


async def test_inactive_member(client: httpx.AsyncClient) -> None:
    answer = await check(client, "inactive-77")
    assert answer["active"] is False and answer["plan"] == "" and answer["in_network"] is False
    assert answer["copay"] == "0.00" and answer["deductible_remaining"] == "0.00"


@pytest.mark.parametrize(
    ("member_id", "field", "value"),
    [
        ("OON-1", "in_network", False),
        ("PRIORAUTH-1", "prior_authorization_required", True),
        ("MISMATCH-1", "mismatches", ["last_name", "date_of_birth"]),
        ("NOPAY-1", "deductible_remaining", "500.00"),
    ],
)
async def test_magic_members(client: httpx.AsyncClient, member_id: str, field: str, value: object) -> None:
    answer = await check(client, member_id)
    assert answer["active"] is True
    assert answer[field] == value


async def test_a_bad_inquiry_is_422_with_fields(client: httpx.AsyncClient) -> None:
    body = inquiry(date_of_birth="12/10/1980")
    del body["last_name"]
    response = await client.post("/v1/eligibility", json=body)
    assert response.status_code == 422
    assert {e["field"] for e in response.json()["fields"]} == {"date_of_birth", "last_name"}
