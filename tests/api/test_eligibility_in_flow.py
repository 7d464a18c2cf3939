"""Eligibility before submission, on the real stack (Temporal, PostgreSQL, the sandbox over HTTP): the X12 sandbox
integration asks the payer (270/271 over the CORE envelope) before it sends a claim; inactive coverage sends the
claim to review unsent, a demographic mismatch is a warning, and GET /v1/claims/{id} shows the answer kept."""

from __future__ import annotations

from typing import Any

from api.auth import Role
from tests.api.test_eligibility import ACTIVE_ANSWER
from tests.api.test_x12_flow import statuses, x12_claim
from tests.support.stack import Stack, auth
from workers.sample_claims import scenario_claim


def answer_of(claim: dict[str, Any]) -> dict[str, Any]:
    """The claim's eligibility answer without its time (checked_at is asserted to be there)."""
    eligibility = dict(claim["eligibility"])
    assert eligibility.pop("checked_at")
    return eligibility


async def test_an_active_x12_member_is_checked_then_paid_with_its_eligibility_shown(stack: Stack) -> None:
    claim_id = await stack.submit(x12_claim("M"))
    claim = await stack.wait_for(claim_id, "closed")
    assert statuses(claim) == ["received", "validating", "submitted", "pending", "approved", "paid", "closed"]
    assert answer_of(claim) == ACTIVE_ANSWER
    assert claim["validation_warnings"] == []


async def test_an_inactive_x12_member_goes_to_review_unsent_with_the_reason_and_its_eligibility(stack: Stack) -> None:
    claim_id = await stack.submit(x12_claim("INACTIVE"))
    claim = await stack.wait_for(claim_id, "in_review")
    assert statuses(claim) == ["received", "validating", "in_review"]
    assert claim["review_reason"] == "coverage_inactive"
    assert claim["status_history"][-1]["reason"].startswith("needs review: coverage_inactive; assigned to ")
    assert claim["payer_claim_id"] is None
    assert await stack.ledger_for(claim_id) == []  # the sandbox never received it
    eligibility = answer_of(claim)
    assert (eligibility["active"], eligibility["coverage"], eligibility["plan"], eligibility["copay"]) == (
        False,
        "inactive",
        None,
        None,
    )
    # never sent: the adjuster may deny it, not approve it
    adjuster = auth(Role.ADJUSTER, sub=claim["assigned_adjuster"], org=None)
    approve = await stack.api.post(f"/v1/claims/{claim_id}/decision", json={"action": "approve"}, headers=adjuster)
    assert approve.status_code == 409, approve.text
    deny = await stack.api.post(
        f"/v1/claims/{claim_id}/decision", json={"action": "deny", "reason_code": "27"}, headers=adjuster
    )
    assert deny.status_code == 200, deny.text
    claim = await stack.wait_for(claim_id, "denied")
    assert answer_of(claim)["coverage"] == "inactive"  # kept after the workflow ended


async def test_a_mismatched_x12_member_is_paid_with_the_warning_naming_the_fields_not_the_values(
    stack: Stack,
) -> None:
    claim_id = await stack.submit(x12_claim("MISMATCH"))
    claim = await stack.wait_for(claim_id, "closed")
    assert answer_of(claim) == {**ACTIVE_ANSWER, "mismatches": ["last_name", "date_of_birth"]}
    [warning] = claim["validation_warnings"]
    assert (warning["rule_id"], warning["path"], warning["severity"]) == ("eligibility.mismatch", "patient", "warning")
    assert warning["params"] == {"fields": "last_name,date_of_birth"}
    assert "last_name, date_of_birth" in warning["message"]
    body = (await stack.api.get(f"/v1/claims/{claim_id}", headers=stack.headers)).text
    assert "HALE" not in body and "1979" not in body  # the payer's record of the member stays with the payer


async def test_a_json_sandbox_claim_is_not_checked(stack: Stack) -> None:
    claim_id = await stack.submit(scenario_claim("M"))
    claim = await stack.wait_for(claim_id, "closed")
    assert claim["eligibility"] is None


async def test_an_admin_does_not_see_the_members_eligibility(stack: Stack) -> None:
    claim_id = await stack.submit(x12_claim("M"))
    await stack.wait_for(claim_id, "closed")
    claim = await stack.read(claim_id, auth(Role.ADMIN, sub="root", org=None))
    assert claim["projection"] == "operations" and claim["eligibility"] is None
