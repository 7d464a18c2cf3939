"""The remittance ledger over the real stack: the sandbox's partial payment posts CO-45 with the right totals, an
adjuster's decision corrects it with its RARC remarks, every role's projection shows it, and a retried status
activity posts nothing twice."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx

from activities.claim_records import ClaimRecordActivities
from activities.contracts import RecordStatusChangesInput, StatusDetails, StatusRecord
from api.auth import Role
from domain.status import ClaimStatus
from tests.api.test_claim_lifecycle import member
from tests.support.stack import Stack, auth
from workflows.claim_contract import STATE_QUERY, ClaimState

CO45 = {"group_code": "CO", "reason_code": "45", "amount": "9.00"}


def money(totals: dict[str, Any]) -> tuple[str, str, str, str]:
    return totals["billed"], totals["allowed"], totals["paid"], totals["patient_responsibility"]


async def review_change(stack: Stack, claim_id: str) -> RecordStatusChangesInput:
    """The status change that put the claim in review with the processor's adjudication, as the workflow wrote it
    (rebuilt from its live state: the change's seq, time, reason, actor, assignment and adjudication)."""
    state = await stack.temporal.get_workflow_handle(f"claim-{claim_id}").query(STATE_QUERY, result_type=ClaimState)
    change = state.status_history[-1]
    assert change.status is ClaimStatus.IN_REVIEW and state.adjudication
    record = StatusRecord(
        claim_id=claim_id,
        seq=change.seq,
        status=change.status,
        reason=change.reason,
        at=change.at,
        actor=change.actor,
        details=StatusDetails(adjudication=state.adjudication, assigned_adjuster=state.assigned_adjuster),
    )
    return RecordStatusChangesInput(changes=[record])


async def with_ledger(stack: Stack, claim_id: str, *statuses: str, timeout: float = 30.0) -> dict[str, Any]:
    """The claim once it is in one of `statuses` and its ledger is posted: the workflow's live status can show
    before the activity that records the change (and posts the ledger) has committed."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        claim = await stack.wait_for(claim_id, *statuses, timeout=timeout)
        if claim["ledger"] is not None or loop.time() > deadline:
            return claim
        await asyncio.sleep(0.1)


async def decide_partial(stack: Stack, claim: dict[str, Any], remark_codes: list[str]) -> httpx.Response:
    """The assigned adjuster approves line 1 at 36.00 (CARC 45) with these remarks."""
    line = {"line_number": 1, "approved_amount": "36.00", "reason_code": "45", "remark_codes": remark_codes}
    return await stack.api.post(
        f"/v1/claims/{claim['claim_id']}/decision",
        json={"action": "partial", "lines": [line]},
        headers=auth(Role.ADJUSTER, sub=claim["assigned_adjuster"], org=None),
    )


async def test_a_partial_payment_posts_co45_and_the_adjusters_decision_corrects_it(stack: Stack) -> None:
    claim_id = await stack.submit(member("PART"))
    claim = await with_ledger(stack, claim_id, "in_review")

    ledger = claim["ledger"]
    (entry,) = ledger["entries"]
    assert (entry["kind"], entry["source"], entry["line_number"]) == ("adjudication", "processor", 1)
    assert money(entry) == ("45.00", "36.00", "36.00", "0.00") and entry["adjustments"] == [CO45]
    assert money(ledger["totals"]) == ("45.00", "36.00", "36.00", "0.00")
    assert ledger["totals"]["adjustments"] == [CO45]
    assert [(line["line_number"], line["paid"]) for line in ledger["lines"]] == [(1, "36.00")]

    decided = await decide_partial(stack, claim, ["N381"])
    assert decided.status_code == 200, decided.text
    claim = await stack.wait_for(claim_id, "closed")

    ledger = claim["ledger"]
    assert [(e["kind"], e["source"], e["paid"]) for e in ledger["entries"]] == [
        ("adjudication", "processor", "36.00"),
        ("reversal", "adjuster", "-36.00"),
        ("correction", "adjuster", "36.00"),
    ]
    assert ledger["entries"][1]["reverses"] == ledger["entries"][0]["remittance_id"]
    assert ledger["entries"][2]["remark_codes"] == ["N381"]
    assert money(ledger["totals"]) == ("45.00", "36.00", "36.00", "0.00")
    assert ledger["totals"]["adjustments"] == [CO45]
    assert claim["payment"]["amount"] == ledger["totals"]["paid"]

    for role, sub in ((Role.ADMIN, "root"), (Role.ADJUSTER, claim["assigned_adjuster"])):
        seen = await stack.read(claim_id, auth(role, sub=sub, org=None))
        assert seen["ledger"] == ledger, role


async def test_a_retried_status_activity_posts_nothing_twice(stack: Stack) -> None:
    claim_id = await stack.submit(member("PART"))
    claim = await with_ledger(stack, claim_id, "in_review")
    before = claim["ledger"]["entries"]
    again = await review_change(stack, claim_id)

    result = await ClaimRecordActivities(stack.sessions).record_status_changes(again)  # the same change, retried

    assert not result.recorded
    assert (await stack.read(claim_id))["ledger"]["entries"] == before


async def test_a_remark_that_is_not_rarc_shaped_is_refused_with_its_field(stack: Stack) -> None:
    claim_id = await stack.submit(member("PART"))
    claim = await stack.wait_for(claim_id, "in_review")
    refused = await decide_partial(stack, claim, ["45"])
    assert refused.status_code == 422, refused.text
    (error,) = refused.json()["errors"]
    assert error["path"] == "lines[0].remark_codes[0]", error
    assert "RARC" in error["message"]
    assert (await stack.read(claim_id))["status"] == "in_review"


async def test_a_claim_not_yet_adjudicated_has_no_ledger(stack: Stack) -> None:
    claim_id = await stack.submit(member("NEVER"))
    claim = await stack.wait_for(claim_id, "submitted", "pending")
    assert claim["ledger"] is None


async def test_an_adjusters_denial_posts_to_the_ledger_paid_nothing_with_the_co_adjustment(stack: Stack) -> None:
    claim_id = await stack.submit(member("DENY"))
    claim = await stack.wait_for(claim_id, "in_review")
    denied = await stack.api.post(
        f"/v1/claims/{claim_id}/decision",
        json={"action": "deny", "reason_code": "50", "note": "not medically necessary"},
        headers=auth(Role.ADJUSTER, sub=claim["assigned_adjuster"], org=None),
    )
    assert denied.status_code == 200, denied.text
    claim = await stack.wait_for(claim_id, "denied")

    ledger = claim["ledger"]
    co50 = {"group_code": "CO", "reason_code": "50", "amount": "45.00"}
    last = ledger["entries"][-1]
    assert (last["kind"], last["source"], last["line_number"], last["paid"]) == ("correction", "adjuster", 1, "0.00")
    assert last["adjustments"] == [co50]
    assert money(ledger["totals"]) == ("45.00", "0.00", "0.00", "0.00")
    assert ledger["totals"]["adjustments"] == [co50]
