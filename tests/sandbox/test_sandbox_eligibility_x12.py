"""The sandbox answers a 270 over /core/ with a 271 written by its own writer, from the same scenarios as its JSON
route; the engine's parser reads it (pyx12 4.0 has no 005010X279A1 map for the 271 either: it is not validated
there)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import httpx
import pytest

from activities.x12.models import CoverageStatus
from activities.x12.parse_271 import parse_271
from activities.x12.request_270 import ELIGIBILITY_270
from activities.x12_adapter import eligibility_result
from domain.eligibility import Coverage, EligibilityInquiry
from sandbox.eligibility import ELIGIBILITY_RULES
from tests.activities.test_x12_270 import inquiry, the_270
from tests.sandbox.sandbox_testkit import ledger
from tests.sandbox.test_sandbox_x12 import answer, core


def asked(member_id: str) -> EligibilityInquiry:
    return inquiry(
        patient={
            "first_name": "Ada",
            "last_name": "Lovelace",
            "date_of_birth": "1980-12-10",
            "sex": "F",
            "member_id": member_id,
        },
        insurance={"payer_id": "SANDBOX-X12", "member_id": member_id, "group_number": "G100"},
        service_type_code="30",
    )


async def json_answer(client: httpx.AsyncClient, member_id: str) -> dict[str, Any]:
    body = {
        "payer_id": "SANDBOX",
        "provider_npi": "1234567893",
        "member_id": member_id,
        "first_name": "Ada",
        "last_name": "Lovelace",
        "date_of_birth": "1980-12-10",
    }
    response = await client.post("/v1/eligibility", json=body)
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


async def test_an_active_member_271_carries_plan_copay_deductible_and_remaining(client: httpx.AsyncClient) -> None:
    payload = await answer(client, ELIGIBILITY_270, the_270(asked("M123")), "RealTime")
    [found] = parse_271(payload)
    assert found.coverage is CoverageStatus.ACTIVE and found.trace_number == "TRACE0001"
    assert (found.plan_name, found.group_number, found.payer_id) == ("Sandbox PPO Gold", "G100", "SANDBOX-X12")
    money = found.in_network_benefits
    assert (money.copay, money.coinsurance_rate, money.deductible, money.deductible_remaining) == (
        10,
        Decimal("0.2"),
        500,
        125,
    )
    assert money.out_of_pocket_remaining == 2000
    assert (found.in_network, found.prior_authorization_required) == (True, False)
    assert (await ledger(client))["eligibility_requests"] == 1


@pytest.mark.parametrize("prefix", ["M", *(prefix for prefix, _, _ in ELIGIBILITY_RULES)])
async def test_every_eligibility_scenario_answers_in_x12_as_in_json(client: httpx.AsyncClient, prefix: str) -> None:
    member_id = f"{prefix}-1"
    payload = await answer(client, ELIGIBILITY_270, the_270(asked(member_id)), "RealTime")
    [found] = parse_271(payload)
    x12 = eligibility_result(found, asked(member_id))
    json = await json_answer(client, member_id)
    assert x12.active is json["active"]
    assert [field.value for field in x12.mismatches] == json["mismatches"]
    if json["active"]:
        assert x12.plan == json["plan"]
        assert f"{x12.copay:.2f}" == json["copay"]
        assert x12.coinsurance_percent == json["coinsurance_percent"]
        assert f"{x12.deductible:.2f}" == json["deductible"]
        assert f"{x12.deductible_remaining:.2f}" == json["deductible_remaining"]
        assert f"{x12.out_of_pocket_remaining:.2f}" == json["out_of_pocket_remaining"]
        assert x12.in_network is json["in_network"]
        assert x12.prior_authorization_required is json["prior_authorization_required"]
    else:
        assert x12.coverage is Coverage.INACTIVE and x12.plan is None and x12.copay is None


async def test_a_mismatched_member_is_on_file_with_another_last_name_and_birth_year(
    client: httpx.AsyncClient,
) -> None:
    payload = await answer(client, ELIGIBILITY_270, the_270(asked("MISMATCH-9")), "RealTime")
    [found] = parse_271(payload)
    assert found.subscriber.last_name != "Lovelace" and found.subscriber.date_of_birth is not None
    assert found.subscriber.date_of_birth.year == 1979 and found.subscriber.member_id == "MISMATCH-9"


async def test_a_270_without_a_member_is_a_payload_error(client: httpx.AsyncClient) -> None:
    interchange = the_270(asked("M1")).replace("NM1*IL*1*Lovelace*Ada****MI*M1~\n", "")
    response = await core(client, ELIGIBILITY_270, interchange, "RealTime")
    assert response.status_code == 400 and "PayloadError" in response.text and "NM1*IL" in response.text
