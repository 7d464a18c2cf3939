"""Forged updates sent straight to Temporal (no API) are refused by the worker's guard and leave no trace.

Whoever reaches Temporal's frontend can send `decide` naming any adjuster and claiming supervisor
authority. The worker runs only updates the API signed (Ed25519): unsigned, signed by an untrusted
key, altered after signing, signed for another claim or expired — each is refused before the
workflow's validator, the claim does not move, and its history holds no update event.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from decimal import Decimal

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from temporalio.client import WorkflowHandle, WorkflowUpdateFailedError
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.exceptions import ApplicationError
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from domain.adjudication import Category
from domain.decision import Decision, DecisionAction
from domain.status import ClaimStatus
from tests.workflows.claim_driver import ClaimDriver, update_events
from tests.workflows.fakes import CHARGE, FakeActivities, Script, answer, line
from workers.update_guard import UpdateGuard
from workers.workflow_runner import workflow_runner
from workflows.claim import ClaimWorkflow
from workflows.claim_contract import DECIDE_UPDATE, ClaimState, DecideInput, UpdateResult, workflow_id
from workflows.update_signatures import UNSIGNED_UPDATE, sign

API_KEY = Ed25519PrivateKey.generate()
#: A supervisor's approval with no authority limit: the most an attacker could claim.
FORGED = DecideInput(decision=Decision(action=DecisionAction.APPROVE), adjuster_id="x", supervisor=True)
DENIED_BY_PAYER = answer(Category.FINALIZED_DENIED, line(CHARGE, Decimal("0.00"), reason="50"))


@pytest.fixture
async def driver(time_skipping_env: WorkflowEnvironment) -> AsyncIterator[ClaimDriver]:
    """The claim workflow on fake activities, behind the guard that trusts only the API's key."""
    fakes = FakeActivities()
    task_queue = f"guard-{uuid.uuid4()}"
    async with Worker(
        time_skipping_env.client,
        task_queue=task_queue,
        workflows=[ClaimWorkflow],
        activities=fakes.activities(),
        workflow_runner=workflow_runner(pydantic_data_converter),
        interceptors=[UpdateGuard([API_KEY.public_key()])],
    ):
        driver = ClaimDriver(time_skipping_env, fakes, task_queue, None)
        try:
            yield driver
        finally:
            await driver.close()


async def in_review(driver: ClaimDriver) -> WorkflowHandle[object, object]:
    handle = await driver.start(Script(answers=[DENIED_BY_PAYER]))
    await driver.waiting_in(handle, ClaimStatus.IN_REVIEW)
    return handle


def signed(
    arg: DecideInput,
    handle: WorkflowHandle[object, object],
    *,
    key: Ed25519PrivateKey = API_KEY,
    at: datetime,
    for_workflow: str | None = None,
) -> DecideInput:
    signature = sign(key, for_workflow or handle.id, DECIDE_UPDATE, arg, at)
    return arg.model_copy(update={"signature": signature})


async def refused(handle: WorkflowHandle[object, object], arg: DecideInput) -> ApplicationError:
    with pytest.raises(WorkflowUpdateFailedError) as failed:
        await handle.execute_update(DECIDE_UPDATE, arg, result_type=UpdateResult)
    cause = failed.value.cause
    assert isinstance(cause, ApplicationError)
    return cause


async def assert_untouched(driver: ClaimDriver, handle: WorkflowHandle[object, object]) -> None:
    state: ClaimState = await driver.state(handle)
    assert state.status is ClaimStatus.IN_REVIEW
    assert update_events(await handle.fetch_history()) == []


async def test_unsigned_supervisor_approval_sent_straight_to_temporal_is_refused(driver: ClaimDriver) -> None:
    handle = await in_review(driver)
    cause = await refused(handle, FORGED)
    assert cause.type == UNSIGNED_UPDATE
    await assert_untouched(driver, handle)


@pytest.mark.parametrize(
    "forgery",
    ["untrusted key", "altered after signing", "signed for another claim", "expired"],
)
async def test_forged_signatures_are_refused(driver: ClaimDriver, forgery: str) -> None:
    handle = await in_review(driver)
    now = await driver.env.get_current_time()  # the workflow's clock: skipped time runs ahead of the wall's
    honest = DecideInput(
        decision=Decision(action=DecisionAction.APPROVE), adjuster_id="alice", authority_limit=Decimal("100.00")
    )
    match forgery:
        case "untrusted key":
            arg = signed(FORGED, handle, key=Ed25519PrivateKey.generate(), at=now)
        case "altered after signing":
            arg = signed(honest, handle, at=now).model_copy(update={"supervisor": True, "authority_limit": None})
        case "signed for another claim":
            arg = signed(FORGED, handle, for_workflow=workflow_id(uuid.uuid4().hex), at=now)
        case _:
            arg = signed(FORGED, handle, at=now - timedelta(minutes=30))
    cause = await refused(handle, arg)
    assert cause.type == UNSIGNED_UPDATE
    await assert_untouched(driver, handle)


async def test_an_update_the_api_signed_is_applied(driver: ClaimDriver) -> None:
    handle = await in_review(driver)
    state: ClaimState = await driver.state(handle)
    arg = DecideInput(
        decision=Decision(action=DecisionAction.APPROVE),
        adjuster_id=state.assigned_adjuster or "",
        authority_limit=Decimal("5000.00"),
    )
    now = await driver.env.get_current_time()
    result: UpdateResult = await handle.execute_update(
        DECIDE_UPDATE, signed(arg, handle, at=now), result_type=UpdateResult
    )
    assert result.status is ClaimStatus.APPROVED
