"""A claim for payer SANDBOX-X12 travels as X12 over the CAQH CORE envelope to the sandbox and back, on the real
stack (Temporal, PostgreSQL, the sandbox over HTTP): 837P -> 999 + 277CA -> 276/277 -> 835 -> paid; an 835's
claim-level CAS and PLB reach the ledger once; a 999 rejection sends the claim to review."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import httpx

from activities.x12_adapter import X12ProcessorAdapter
from api.auth import Role
from db.uow import UnitOfWork
from domain.adjudication import Category
from tests.activities.test_x12_837p import LAB_ADDRESS, PATIENT_ADDRESS, pyx12_errors
from tests.support.stack import Stack, auth
from workers.api_config import x12_integration
from workers.sample_claims import scenario_claim
from workers.settings import Settings
from workflows.claim_contract import STATE_QUERY, ClaimState

X12_PAYER = "SANDBOX-X12"


def x12_claim(prefix: str) -> dict[str, Any]:
    """A sandbox scenario's claim (member id prefix) for the X12 payer, with the addresses an 837P needs."""
    claim = scenario_claim(prefix)
    claim["insurance"]["payer_id"] = X12_PAYER
    claim["patient"]["address"] = PATIENT_ADDRESS
    claim["billing_provider"]["address"] = LAB_ADDRESS
    return claim


def adjustments(line: dict[str, Any]) -> list[tuple[str, str, str]]:
    return [(a["group_code"], a["reason_code"], a["amount"]) for a in line["adjustments"]]


def statuses(claim: dict[str, Any]) -> list[str]:
    return [entry["status"] for entry in claim["status_history"]]


async def sent_837p(stack: Stack, claim_id: str) -> str:
    """The interchange the sandbox received for the claim (its ledger keeps it) — and the one the API shows."""
    [entry] = await stack.ledger_for(claim_id)
    received: str = entry["x12_interchange"]
    shown = await stack.api.get(f"/v1/claims/{claim_id}/x12/837", headers=stack.headers)
    assert shown.status_code == 200, shown.text
    assert shown.text == received
    return received


async def test_a_clean_x12_claim_is_paid_in_full_with_its_835_lines_and_its_837p_passes_pyx12(stack: Stack) -> None:
    claim_id = await stack.submit(x12_claim("M"))
    claim = await stack.wait_for(claim_id, "closed")

    assert statuses(claim) == ["received", "validating", "submitted", "pending", "approved", "paid", "closed"]
    assert claim["payer_claim_id"].startswith("PCN-")
    line = claim["lines"][0]["adjudication"]
    assert (line["billed"], line["allowed"], line["paid"], line["adjustments"]) == ("45.00", "45.00", "45.00", [])
    [ledger] = await stack.ledger_for(claim_id)
    assert (ledger["submissions_applied"], ledger["payments_applied"], ledger["paid_amount"]) == (1, 1, "45.00")
    assert claim["payment"]["amount"] == "45.00"
    assert claim["payment"]["payment_id"].startswith("PAY-")
    assert pyx12_errors(await sent_837p(stack, claim_id)) == []


async def test_a_partly_paid_x12_claim_carries_the_835s_line_adjustment_to_review(stack: Stack) -> None:
    claim_id = await stack.submit(x12_claim("PART"))
    claim = await stack.wait_for(claim_id, "in_review")

    assert claim["review_reason"] == "partially_paid"
    line = claim["lines"][0]["adjudication"]
    assert (line["billed"], line["allowed"], line["paid"]) == ("45.00", "36.00", "36.00")
    assert adjustments(line) == [("CO", "45", "9.00")]
    assert pyx12_errors(await sent_837p(stack, claim_id)) == []


async def test_an_x12_denial_reaches_an_adjuster_with_co50_and_its_remark(stack: Stack) -> None:
    claim_id = await stack.submit(x12_claim("DENY"))
    claim = await stack.wait_for(claim_id, "in_review")

    assert claim["review_reason"] == "denied_by_payer"
    line = claim["lines"][0]["adjudication"]
    assert (line["paid"], adjustments(line)) == ("0.00", [("CO", "50", "45.00")])
    assert line["remark_codes"] == ["N130"]
    [ledger] = await stack.ledger_for(claim_id)
    assert ledger["payments_applied"] == 0
    response = await stack.api.post(
        f"/v1/claims/{claim_id}/decision",
        json={"action": "deny", "reason_code": "50", "note": "not medically necessary"},
        headers=auth(Role.ADJUSTER, sub=claim["assigned_adjuster"], org=None),
    )
    assert response.status_code == 200, response.text
    await stack.wait_for(claim_id, "denied")


async def test_an_x12_claim_rejected_in_the_277ca_goes_to_review_without_polling(stack: Stack) -> None:
    claim_id = await stack.submit(x12_claim("REJECT"))
    claim = await stack.wait_for(claim_id, "in_review")

    assert claim["review_reason"] == "rejected_by_processor"
    assert "A7" in claim["status_history"][2]["reason"]
    [ledger] = await stack.ledger_for(claim_id)
    assert (ledger["category"], ledger["status_requests"]) == ("A7", 0)


async def test_an_x12_claim_pended_for_information_goes_to_review(stack: Stack) -> None:
    claim_id = await stack.submit(x12_claim("PEND"))
    claim = await stack.wait_for(claim_id, "in_review")

    assert claim["review_reason"] == "information_requested_by_payer"
    [ledger] = await stack.ledger_for(claim_id)
    assert ledger["category"] == "P3"
    assert ledger["payments_applied"] == 0


async def test_every_x12_scenario_claim_sent_is_one_claim_with_a_valid_837p(stack: Stack) -> None:
    ids = [await stack.submit(x12_claim(prefix)) for prefix in ("NOPAY", "REVISE")]
    finals = [await stack.wait_for(claim_id, "in_review", "closed") for claim_id in ids]

    assert [claim["status"] for claim in finals] == ["in_review", "closed"]
    assert Decimal(finals[0]["lines"][0]["adjudication"]["paid"]) == 0
    for claim_id in ids:
        [ledger] = await stack.ledger_for(claim_id)
        assert ledger["submissions_applied"] == 1
        assert pyx12_errors(await sent_837p(stack, claim_id)) == []


async def test_a_retried_x12_submission_resends_the_same_interchange_and_is_one_claim(stack: Stack) -> None:
    claim_id = await stack.submit(x12_claim("M"))
    claim = await stack.wait_for(claim_id, "closed")
    adapter_integration = x12_integration(Settings(_env_file=None))

    async with httpx.AsyncClient() as http:
        adapter = X12ProcessorAdapter(stack.sessions, http, stack.sandbox_url, adapter_integration)
        async with UnitOfWork(stack.sessions) as uow:
            document = await uow.claims.load_claim(claim_id)
        receipt = await adapter.submit(
            claim_id, document, idempotency_key=f"claim-{claim_id}-submission", callback_url=None
        )

    assert receipt.payer_claim_id == claim["payer_claim_id"]
    [ledger] = await stack.ledger_for(claim_id)
    assert (ledger["submissions_applied"], ledger["submission_replays"]) == (1, 1)


async def test_an_x12_835s_claim_level_cas_and_plb_post_once_and_the_ledger_shows_the_plb_apart(stack: Stack) -> None:
    claim_id = await stack.submit(x12_claim("PLB"))
    claim = await stack.wait_for(claim_id, "closed")

    ledger = claim["ledger"]
    assert [(e["source"], e["kind"], e["line_number"], e["paid"]) for e in ledger["entries"]] == [
        ("remittance", "adjudication", 1, "45.00"),
        ("remittance", "adjudication", None, "-0.90"),  # the claim-level CO-253, taken from what the line paid
    ]
    assert ledger["entries"][1]["adjustments"] == [{"group_code": "CO", "reason_code": "253", "amount": "0.90"}]
    assert (ledger["totals"]["billed"], ledger["totals"]["paid"]) == ("45.00", "44.10")
    assert claim["payment"]["amount"] == ledger["totals"]["paid"]
    [plb] = ledger["provider_adjustments"]  # the interest: beside the claim's money, not in its totals
    assert (plb["reason_code"], plb["reference"], plb["amount"]) == ("L6", claim["payer_claim_id"], "-0.50")

    async with httpx.AsyncClient() as http:  # the poll retried: the same 835 again
        adapter = X12ProcessorAdapter(
            stack.sessions, http, stack.sandbox_url, x12_integration(Settings(_env_file=None))
        )
        await adapter.status(claim["payer_claim_id"], claim_id=claim_id)
    again = (await stack.read(claim_id))["ledger"]
    assert again == ledger
    admin = await stack.read(claim_id, auth(Role.ADMIN, sub="root", org=None))
    assert [p["reference"] for p in admin["ledger"]["provider_adjustments"]] == [None]


async def test_an_x12_claim_whose_transaction_set_the_999_rejects_goes_to_review_sent_once(stack: Stack) -> None:
    claim_id = await stack.submit(x12_claim("REJ999"))
    claim = await stack.wait_for(claim_id, "in_review")

    assert claim["review_reason"] == "rejected_by_processor"
    assert statuses(claim) == ["received", "validating", "submitted", "in_review"]
    assert claim["status_history"][2]["reason"] == "rejected by the processor (A3)"
    assert not claim["payer_claim_id"]  # the payer never took it
    handle = stack.temporal.get_workflow_handle(f"claim-{claim_id}")
    state = await handle.query(STATE_QUERY, result_type=ClaimState)
    assert (state.processor_category, state.processor_status_code) == (Category.UNPROCESSABLE, "IK5*R*5")
    async with httpx.AsyncClient() as http:
        book = (await http.get(f"{stack.sandbox_url}/_sandbox/ledger", params={"claim_id": claim_id})).json()
    assert (book["transaction_sets_rejected"], book["claims"]) == (1, [])  # sent once, not taken
    assert pyx12_errors((await stack.api.get(f"/v1/claims/{claim_id}/x12/837", headers=stack.headers)).text) == []
