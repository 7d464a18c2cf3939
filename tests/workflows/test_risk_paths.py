"""The risk screen's paths through ClaimWorkflow, on fake activities and the time-skipping server: held before
submission (then approved and sent, or denied unsent), held before auto-approval, and a clean claim screened twice."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
from temporalio.client import WorkflowHandle
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner

from activities import contracts
from domain.decision import Decision, DecisionAction, LineDecision
from domain.risk import RiskReason
from domain.routing import ReviewReason
from domain.status import ClaimStatus
from tests.workflows.claim_driver import ClaimDriver, claim_id, refusal
from tests.workflows.fakes import CHARGE, FakeActivities, Script
from workflows.claim import ClaimWorkflow
from workflows.claim_contract import ClaimPolicy

S = ClaimStatus
DUPLICATE = RiskReason(rule_id="duplicate.exact", weight=60, message="same ... as earlier claim c-1")
HELD = contracts.RiskScreenResult(score=60, reasons=[DUPLICATE], threshold=50, held=True)
CLEAR = contracts.RiskScreenResult(score=0, threshold=50, held=False)
APPROVE = Decision(action=DecisionAction.APPROVE, note="checked: not a duplicate")
POLICY = ClaimPolicy()


@pytest.fixture
async def driver(time_skipping_env: WorkflowEnvironment) -> AsyncIterator[ClaimDriver]:
    """A worker on the fake activities and a task queue of its own (these paths record no history)."""
    fakes = FakeActivities()
    task_queue = f"risk-{uuid.uuid4()}"
    async with Worker(
        time_skipping_env.client,
        task_queue=task_queue,
        workflows=[ClaimWorkflow],
        activities=fakes.activities(),
        workflow_runner=SandboxedWorkflowRunner(),
    ):
        driver = ClaimDriver(time_skipping_env, fakes, task_queue, None)
        try:
            yield driver
        finally:
            await driver.close()


def screens(driver: ClaimDriver, handle: WorkflowHandle[Any, Any]) -> list[str]:
    """The stages the claim was screened at, in order."""
    return [input.stage for input in driver.fakes.inputs(contracts.SCREEN_RISK, claim_id(handle))]


async def test_held_before_submission_then_approved_is_sent_paid_and_closed_without_a_second_screen(
    driver: ClaimDriver,
) -> None:
    handle = await driver.start(Script(risk=[HELD]), POLICY)
    state = await driver.waiting_in(handle, S.IN_REVIEW)
    assert state.review_reason is ReviewReason.RISK_SCREEN
    assert (state.risk_score, state.risk_reasons, state.payer_claim_id) == (60, [DUPLICATE], None)
    assert driver.side_effects(handle) == {"submitted": 0, "paid": 0}
    partial = Decision(
        action=DecisionAction.PARTIAL,
        lines=[LineDecision(line_number=1, approved_amount=CHARGE / 2, reason_code="45")],
        note="half",
    )
    refused = await refusal(driver.decide(handle, partial, by="alice"))
    assert refused.type == "claim_not_submitted"

    decided = await driver.decide(handle, APPROVE, by="alice")
    assert decided.status is S.READY
    result = await driver.finish(handle)
    state = await driver.assert_path(
        handle,
        result,
        [S.RECEIVED, S.VALIDATING, S.IN_REVIEW, S.READY, S.SUBMITTED, S.PENDING, S.APPROVED, S.PAID, S.CLOSED],
    )
    assert state.status_history[3].reason == "approved for submission by alice after the risk screen"
    assert state.risk_cleared_by == "alice"
    assert driver.side_effects(handle) == {"submitted": 1, "paid": 1}
    assert screens(driver, handle) == ["before_submission"]  # cleared by the adjuster: not screened again


async def test_held_before_submission_and_denied_is_never_sent(driver: ClaimDriver) -> None:
    handle = await driver.start(Script(risk=[HELD]), POLICY)
    await driver.waiting_in(handle, S.IN_REVIEW)
    await driver.decide(handle, Decision(action=DecisionAction.DENY, reason_code="18", note="duplicate"), by="alice")
    result = await driver.finish(handle)
    await driver.assert_path(handle, result, [S.RECEIVED, S.VALIDATING, S.IN_REVIEW, S.DENIED])
    assert driver.side_effects(handle) == {"submitted": 0, "paid": 0}


async def test_held_before_auto_approval_goes_to_review_with_the_payers_answer(driver: ClaimDriver) -> None:
    handle = await driver.start(Script(risk=[CLEAR, HELD]), POLICY)
    state = await driver.waiting_in(handle, S.IN_REVIEW)
    assert state.review_reason is ReviewReason.RISK_SCREEN
    assert state.risk_score == 60
    assert [line.paid for line in state.adjudication] == [CHARGE]  # the payer's answer is kept for the adjuster
    await driver.decide(handle, APPROVE, by="alice")
    result = await driver.finish(handle)
    await driver.assert_path(
        handle,
        result,
        [S.RECEIVED, S.VALIDATING, S.SUBMITTED, S.PENDING, S.IN_REVIEW, S.APPROVED, S.PAID, S.CLOSED],
    )
    assert screens(driver, handle) == ["before_submission", "before_auto_approval"]


async def test_a_clean_claim_is_screened_before_submission_and_before_auto_approval(driver: ClaimDriver) -> None:
    handle = await driver.start(Script(risk=[CLEAR]), POLICY)
    result = await driver.finish(handle)
    state = await driver.assert_path(
        handle, result, [S.RECEIVED, S.VALIDATING, S.SUBMITTED, S.PENDING, S.APPROVED, S.PAID, S.CLOSED]
    )
    assert screens(driver, handle) == ["before_submission", "before_auto_approval"]
    assert (state.risk_score, state.review_reason) == (0, None)
