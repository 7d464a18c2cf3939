"""Every scenario's status script, its 835 lines and the line invariants."""

from __future__ import annotations

import asyncio
from decimal import Decimal
from typing import Any

import httpx
import pytest

from sandbox.config import SandboxConfig
from sandbox.scenarios import DEFAULT, SCENARIOS, scenario_for
from tests.sandbox.sandbox_testkit import assert_line_invariants, claim_body, open_sandbox, status, submit

CHARGES = ("33.33", "12.00", "0.01")


async def run_script(
    client: httpx.AsyncClient, member_id: str, polls: int
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    accepted = await submit(client, claim_body(member_id, charges=CHARGES))
    assert accepted.status_code == 201, accepted.text
    answers = [await status(client, accepted.json()["payer_claim_id"]) for _ in range(polls)]
    return accepted.json(), answers


def categories(answers: list[dict[str, Any]]) -> list[str]:
    return [a["category"] for a in answers]


def check_lines(answers: list[dict[str, Any]]) -> None:
    """Lines appear exactly on finalized answers, always the same, always balanced."""
    for answer in answers:
        if answer["category"].startswith("F"):
            assert [ln["line_number"] for ln in answer["lines"]] == [1, 2, 3]
            assert [ln["billed"] for ln in answer["lines"]] == list(CHARGES)
            assert_line_invariants(answer["lines"])
        else:
            assert answer["lines"] == []


async def test_default_is_paid_in_full(client: httpx.AsyncClient) -> None:
    accepted, answers = await run_script(client, "M-00042", 5)
    assert accepted["category"] == "A1"
    assert accepted["payer_claim_id"].startswith("PCN-")
    assert categories(answers) == ["A2", "P1", "F1", "F1", "F1"]
    assert answers[1]["message"] == "pending: in process"
    assert all(a["status_code"] and a["message"] for a in answers)
    check_lines(answers)
    for remit in answers[2]["lines"]:
        assert remit["paid"] == remit["allowed"] == remit["billed"]
        assert remit["adjustments"] == [] and remit["remark_codes"] == []


async def test_partial_pays_first_line_80_percent_with_co45(client: httpx.AsyncClient) -> None:
    _, answers = await run_script(client, "PART-7", 3)
    assert categories(answers) == ["A2", "P1", "F1"]
    check_lines(answers)
    first, *others = answers[2]["lines"]
    # 80% of 33.33 is 26.664, rounded to cents.
    assert first["paid"] == "26.66" and first["allowed"] == "26.66"
    assert first["adjustments"] == [{"group_code": "CO", "reason_code": "45", "amount": "6.67"}]
    for remit in others:
        assert remit["paid"] == remit["billed"] and remit["adjustments"] == []


async def test_deny_denies_every_line_with_co50_n130(client: httpx.AsyncClient) -> None:
    _, answers = await run_script(client, "DENY1", 4)
    assert categories(answers) == ["A2", "P1", "F2", "F2"]
    check_lines(answers)
    for remit in answers[2]["lines"]:
        assert remit["paid"] == "0.00" and remit["allowed"] == "0.00"
        assert remit["adjustments"] == [{"group_code": "CO", "reason_code": "50", "amount": remit["billed"]}]
        assert remit["remark_codes"] == ["N130"]


async def test_nopay_applies_everything_to_the_deductible(client: httpx.AsyncClient) -> None:
    _, answers = await run_script(client, "NOPAY-1", 3)
    assert categories(answers) == ["A2", "P1", "F4"]
    check_lines(answers)
    for remit in answers[2]["lines"]:
        assert remit["paid"] == "0.00"
        assert remit["allowed"] == remit["billed"]  # patient responsibility is part of the allowed amount
        assert remit["adjustments"] == [{"group_code": "PR", "reason_code": "1", "amount": remit["billed"]}]


async def test_revise_finalizes_as_f3_paid_in_full(client: httpx.AsyncClient) -> None:
    _, answers = await run_script(client, "REVISE9", 3)
    assert categories(answers) == ["A2", "P1", "F3"]
    check_lines(answers)
    assert all(remit["paid"] == remit["billed"] for remit in answers[2]["lines"])


async def test_pend_stays_pending_for_information(client: httpx.AsyncClient) -> None:
    _, answers = await run_script(client, "PEND-1", 7)
    assert categories(answers) == ["A2", "P1", "P3", "P3", "P3", "P3", "P3"]
    assert "information requested" in answers[2]["message"]
    check_lines(answers)


async def test_slow_pends_eight_times_then_pays(client: httpx.AsyncClient) -> None:
    _, answers = await run_script(client, "SLOW-1", 11)
    assert categories(answers) == ["A2", *["P1"] * 8, "F1", "F1"]
    check_lines(answers)


async def test_never_stays_in_process(client: httpx.AsyncClient) -> None:
    _, answers = await run_script(client, "NEVER-1", 25)
    assert categories(answers) == ["A2", *["P1"] * 24]
    check_lines(answers)


async def test_reject_answers_a7_at_submission_and_forever(client: httpx.AsyncClient) -> None:
    accepted, answers = await run_script(client, "REJECT-1", 3)
    assert accepted["category"] == "A7"
    assert accepted["status_code"] == "21"
    assert "member_id" in accepted["message"]
    assert "REJECT-1" not in accepted["message"]  # the member id itself is not echoed back
    assert categories(answers) == ["A7", "A7", "A7"]
    assert all(a["message"] == accepted["message"] for a in answers)
    check_lines(answers)


async def test_prefixes_are_case_insensitive(client: httpx.AsyncClient) -> None:
    _, answers = await run_script(client, "deny-lower", 3)
    assert answers[-1]["category"] == "F2"


async def test_front_end_edits_reject_a_claim_whose_total_is_wrong(client: httpx.AsyncClient) -> None:
    body = claim_body(charges=("10.00", "5.00"))
    body["total_charge"] = "16.00"
    body["lines"][1]["line_number"] = 1
    body["lines"][1]["units"] = 0
    accepted = await submit(client, body)
    assert accepted.status_code == 201
    answer = accepted.json()
    assert answer["category"] == "A7" and answer["status_code"] == "21"
    for problem in ("total_charge", "line_number", "units"):
        assert problem in answer["message"]
    later = await status(client, answer["payer_claim_id"])
    assert later["category"] == "A7" and later["message"] == answer["message"]


async def test_unknown_payer_claim_is_404(client: httpx.AsyncClient) -> None:
    response = await client.get("/v1/claims/PCN-NOPE/status")
    assert response.status_code == 404
    assert response.json()["error"] == "unknown_payer_claim"


async def test_status_requests_are_counted_per_claim(client: httpx.AsyncClient) -> None:
    _, answers = await run_script(client, "M1", 4)
    ledger = (await client.get("/_sandbox/ledger")).json()
    (entry,) = ledger["claims"]
    assert entry["status_requests"] == 4
    assert entry["category"] == answers[-1]["category"] == "F1"


async def test_wall_time_advances_the_script() -> None:
    async with open_sandbox(SandboxConfig(step_seconds=0.05)) as client:
        slow = (await submit(client, claim_body("SLOW-T", claim_id="a"), key="a")).json()["payer_claim_id"]
        fast = (await submit(client, claim_body("M-T", claim_id="b"), key="b")).json()["payer_claim_id"]
        assert (await status(client, fast))["category"] == "A2"
        await asyncio.sleep(0.2)  # four steps of wall time
        assert (await status(client, fast))["category"] == "F1"
        answer = await status(client, slow)
        assert answer["category"] == "P1"  # index 4 of A2, P1 x 8, F1
        await asyncio.sleep(0.35)
        assert (await status(client, slow))["category"] == "F1"


async def test_polls_still_advance_when_wall_time_is_slow() -> None:
    async with open_sandbox(SandboxConfig(step_seconds=60)) as client:
        pcid = (await submit(client, claim_body())).json()["payer_claim_id"]
        assert [(await status(client, pcid))["category"] for _ in range(3)] == ["A2", "P1", "F1"]


def test_scenario_table_prefixes_are_unique_and_unambiguous() -> None:
    prefixes = [s.prefix for s in SCENARIOS if s.prefix]
    assert len(prefixes) == len(set(prefixes)) == len(SCENARIOS)
    for prefix in prefixes:
        assert scenario_for(prefix + "123").prefix == prefix
        assert scenario_for(prefix.lower()).prefix == prefix
    assert scenario_for("M1") is DEFAULT
    assert scenario_for("XPART") is DEFAULT  # prefix, not substring


@pytest.mark.parametrize("charge", ["0.01", "0.05", "1.99", "33.33", "99999.99"])
async def test_partial_rounding_always_balances(client: httpx.AsyncClient, charge: str) -> None:
    accepted = await submit(client, claim_body("PART-R", charges=(charge,)), key=f"r-{charge}")
    pcid = accepted.json()["payer_claim_id"]
    lines = [await status(client, pcid) for _ in range(3)][-1]["lines"]
    assert_line_invariants(lines)
    paid = Decimal(lines[0]["paid"])
    assert abs(paid - Decimal(charge) * Decimal("0.8")) <= Decimal("0.005")
