"""The risk screen over the API: the rules' admin endpoints (admins only, 422 naming a bad parameter, audited); a
claim duplicating an earlier one held before submission with its reasons, then sent once an adjuster approves; a
clean claim not held; the external scorer over real HTTP (the sandbox), counted when it answers, skipped when slow."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.client import Client

from api.auth import Role
from db.seeding import SEED_DIR
from db.uow import UnitOfWork
from domain.risk import RiskRule
from tests.api.test_claim_lifecycle import member, statuses
from tests.domain.factories import valid_npi
from tests.support.stack import TRUSTED_UPDATE_KEYS, Stack, auth, running_stack
from workers.worker import claim_worker
from workflows.claim_contract import STATE_QUERY, ClaimState, workflow_id

ADMIN = auth(Role.ADMIN, sub="root", org=None)
CLEAN_PATH = ["received", "validating", "submitted", "pending", "approved", "paid", "closed"]


@pytest.fixture(autouse=True)
async def seeded_rules(stack: Stack) -> None:
    """The seeded rules, as shipped, and no other enabled (another test, such as the OpenAPI fuzz run as an admin,
    may have put rules of its own in this database)."""
    seeds = {
        rule.rule_id: rule
        for rule in (RiskRule.model_validate(entry) for entry in json.loads((SEED_DIR / "risk_rules.json").read_text()))
    }
    async with UnitOfWork(stack.sessions) as uow:
        for rule in await uow.risk.rules():
            if rule.rule_id not in seeds and rule.enabled:
                await uow.risk.put_rule(rule.model_copy(update={"enabled": False}))
        for rule in seeds.values():
            await uow.risk.put_rule(rule)
        await uow.commit()


def duplicate_of(body: dict[str, Any]) -> dict[str, Any]:
    """The same claim billed again under another billing provider of the organization: the validation's duplicate
    edit (same billing NPI) lets it through; the risk screen's exact-duplicate rule does not."""
    return {**body, "billing_provider": {**body["billing_provider"], "npi": valid_npi("987654321")}}


async def final_state(stack: Stack, claim_id: str) -> ClaimState:
    """The workflow's state, read from Temporal (the API shows the live state only while a claim still moves)."""
    state: ClaimState = await stack.temporal.get_workflow_handle(workflow_id(claim_id)).query(
        STATE_QUERY, result_type=ClaimState
    )
    return state


# ---- the rules' admin API ----------------------------------------------------------------------


async def test_admins_list_the_seeded_rules_and_nobody_else_reads_or_changes_them(stack: Stack) -> None:
    response = await stack.api.get("/v1/risk/rules", headers=ADMIN)
    assert response.status_code == 200, response.text
    kinds = {rule["kind"] for rule in response.json()["data"]}
    assert kinds == {"exact_duplicate", "near_duplicate", "frequency_limit", "charge_outlier", "unbundling"}
    body = {"kind": "exact_duplicate", "weight": 0}
    for role in (Role.SUBMITTER, Role.ADJUSTER, Role.SUPERVISOR):
        headers = auth(role, sub="someone", org="org-test" if role is Role.SUBMITTER else None)
        assert (await stack.api.get("/v1/risk/rules", headers=headers)).status_code == 403
        assert (await stack.api.put("/v1/risk/rules/duplicate.exact", json=body, headers=headers)).status_code == 403


@pytest.mark.parametrize(
    ("body", "path"),
    [
        ({"kind": "near_duplicate", "params": {"window_days": -3}, "weight": 30}, "params.window_days"),
        ({"kind": "near_duplicate", "params": {"days": 3}, "weight": 30}, "params.days"),
        ({"kind": "charge_outlier", "params": {"percentile": None, "median_multiple": None}, "weight": 20}, "params"),
    ],
    ids=["negative-window", "unknown-name", "no-test-left"],
)
async def test_a_parameter_that_does_not_fit_the_kind_is_422_naming_it(
    stack: Stack, body: dict[str, Any], path: str
) -> None:
    response = await stack.api.put("/v1/risk/rules/duplicate.near", json=body, headers=ADMIN)
    assert response.status_code == 422, response.text
    assert [error["path"] for error in response.json()["errors"]] == [path]
    rules = {rule["rule_id"]: rule for rule in (await stack.api.get("/v1/risk/rules", headers=ADMIN)).json()["data"]}
    assert rules["duplicate.near"]["params"] == {"window_days": 7, "charge_tolerance_percent": 10.0}


async def test_a_weight_out_of_range_or_an_id_that_is_no_id_is_422(stack: Stack) -> None:
    response = await stack.api.put(
        "/v1/risk/rules/duplicate.near", json={"kind": "near_duplicate", "weight": 101}, headers=ADMIN
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["path"] == "weight"
    response = await stack.api.put(
        "/v1/risk/rules/Not%20An%20Id", json={"kind": "unbundling", "weight": 1}, headers=ADMIN
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["path"] == "rule_id"


async def test_an_admin_changes_a_rule_and_the_change_is_audited(stack: Stack) -> None:
    original = {rule["rule_id"]: rule for rule in (await stack.api.get("/v1/risk/rules", headers=ADMIN)).json()["data"]}
    frequency = original["frequency.per_patient"]
    try:
        changed = {"kind": "frequency_limit", "params": {"max_count": 5}, "weight": 35, "enabled": False}
        response = await stack.api.put("/v1/risk/rules/frequency.per_patient", json=changed, headers=ADMIN)
        assert response.status_code == 200, response.text
        assert response.json() | {"description": ""} == {
            "rule_id": "frequency.per_patient",
            "kind": "frequency_limit",
            "params": {"max_count": 5, "window_days": 30},  # the left-out parameter takes its default
            "weight": 35,
            "enabled": False,
            "description": "",
        }
        async with stack.sessions() as session:
            audited = (
                await session.execute(
                    text(
                        "SELECT actor, details->>'weight' FROM audit_log WHERE action = 'risk_rule.updated' "
                        "AND details->>'rule_id' = 'frequency.per_patient' ORDER BY id DESC LIMIT 1"
                    )
                )
            ).one()
        assert tuple(audited) == ("admin:root", "35")
    finally:
        restore = {name: frequency[name] for name in ("kind", "params", "weight", "enabled", "description")}
        response = await stack.api.put("/v1/risk/rules/frequency.per_patient", json=restore, headers=ADMIN)
        assert response.status_code == 200, response.text


# ---- claims through the screen -----------------------------------------------------------------


async def test_a_claim_duplicating_an_earlier_one_is_held_with_its_reasons_and_sent_once_approved(
    stack: Stack,
) -> None:
    first = member("M")
    earlier = await stack.submit(first)
    await stack.wait_for(earlier, "closed")

    claim_id = await stack.submit(duplicate_of(first))
    claim = await stack.wait_for(claim_id, "in_review")

    assert statuses(claim) == ["received", "validating", "in_review"]  # held before submission
    assert claim["review_reason"] == "risk_screen"
    assert claim["payer_claim_id"] is None
    assert claim["risk_score"] >= 50
    reason = {reason["rule_id"]: reason for reason in claim["risk_reasons"]}["duplicate.exact"]
    assert reason["weight"] == 60
    assert earlier in reason["message"]
    assert first["patient"]["member_id"] not in str(claim["risk_reasons"])

    adjuster = auth(Role.ADJUSTER, sub=claim["assigned_adjuster"], org=None)
    response = await stack.api.post(f"/v1/claims/{claim_id}/decision", json={"action": "approve"}, headers=adjuster)
    assert response.status_code == 200, response.text
    claim = await stack.wait_for(claim_id, "closed")
    assert statuses(claim)[2:] == ["in_review", "ready", "submitted", "pending", "approved", "paid", "closed"]
    assert claim["payment"]["amount"] == "45.00"
    state = await final_state(stack, claim_id)
    assert state.risk_cleared_by == claim["assigned_adjuster"]
    assert len(await stack.ledger_for(claim_id)) == 1  # submitted to the processor once


async def test_a_partial_approval_of_a_held_claim_is_refused_saying_approve_sends_it(stack: Stack) -> None:
    first = member("M")
    await stack.wait_for(await stack.submit(first), "closed")
    claim_id = await stack.submit(duplicate_of(first))
    claim = await stack.wait_for(claim_id, "in_review")
    adjuster = auth(Role.ADJUSTER, sub=claim["assigned_adjuster"], org=None)
    partial = {
        "action": "partial",
        "lines": [{"line_number": 1, "approved_amount": "20.00", "reason_code": "45"}],
        "note": "half",
    }
    response = await stack.api.post(f"/v1/claims/{claim_id}/decision", json=partial, headers=adjuster)
    assert response.status_code == 409, response.text
    assert response.json()["code"] == "claim_not_submitted"
    assert "risk screen" in response.json()["detail"]


async def test_a_clean_claim_is_not_held(stack: Stack) -> None:
    claim_id = await stack.submit(member("M"))
    claim = await stack.wait_for(claim_id, "closed")
    assert statuses(claim) == CLEAN_PATH
    state = await final_state(stack, claim_id)
    assert (state.risk_score, state.risk_reasons) == (0, [])


# ---- the external scorer over HTTP -------------------------------------------------------------


@asynccontextmanager
async def scored_stack(
    temporal: Client, sessions: async_sessionmaker[AsyncSession], sandbox_url: str, query: str, timeout: float
) -> AsyncIterator[Stack]:
    """A stack whose worker asks the sandbox's scorer, steered by `query`, with `timeout`."""
    async with (
        running_stack(temporal, sessions, sandbox_url, with_worker=False) as stack,
        claim_worker(
            temporal,
            sessions,
            task_queue=stack.task_queue,
            processor_url=sandbox_url,
            trusted_update_keys=TRUSTED_UPDATE_KEYS,
            auto_integrations=True,
            risk_scoring_url=f"{sandbox_url}/risk/score?{query}",
            risk_scoring_timeout=timeout,
        ) as worker,
    ):
        task = asyncio.create_task(worker.run())
        try:
            yield stack
        finally:
            await worker.shutdown()
            await task


async def test_a_high_external_score_sends_a_clean_claim_to_review_with_its_reason(
    temporal: Client, sessions: async_sessionmaker[AsyncSession], sandbox_url: str
) -> None:
    async with scored_stack(temporal, sessions, sandbox_url, "score=90", timeout=2.0) as stack:
        claim_id = await stack.submit(member("M"))
        claim = await stack.wait_for(claim_id, "in_review")
    assert claim["review_reason"] == "risk_screen"
    assert claim["risk_score"] == 90
    assert [(r["rule_id"], r["message"]) for r in claim["risk_reasons"]] == [
        ("external", "external risk score 90 (sandbox_fixed)")
    ]


async def test_an_external_scorer_past_its_timeout_leaves_the_rules_score_alone(
    temporal: Client, sessions: async_sessionmaker[AsyncSession], sandbox_url: str
) -> None:
    async with scored_stack(temporal, sessions, sandbox_url, "score=100&delay_ms=2000", timeout=0.3) as stack:
        claim_id = await stack.submit(member("M"))
        claim = await stack.wait_for(claim_id, "closed")
        state = await final_state(stack, claim_id)
    assert statuses(claim) == CLEAN_PATH  # the scorer would have said 100: it was not waited for
    assert state.risk_score == 0
    assert [reason.rule_id for reason in state.risk_reasons] == ["external_unavailable"]
