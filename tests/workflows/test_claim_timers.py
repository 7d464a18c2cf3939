"""Timers in skipped time: a 30-day polling schedule, continue-as-new, and an SLA escalation."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.client import WorkflowHandle
from temporalio.testing import WorkflowEnvironment

from db.uow import UnitOfWork
from domain.claim import Claim
from domain.status import ClaimStatus
from tests.domain.factories import make_claim
from tests.support.stack import TRUSTED_UPDATE_KEYS
from workers.worker import claim_worker
from workflows.claim import ClaimWorkflow
from workflows.claim_contract import ClaimPolicy, ClaimState, ClaimWorkflowInput, workflow_id


def claim_for(member_prefix: str) -> Claim:
    claim = make_claim()
    member_id = f"{member_prefix}{uuid.uuid4().hex[:8].upper()}"
    return claim.model_copy(
        update={
            "patient": claim.patient.model_copy(update={"member_id": member_id}),
            "insurance": claim.insurance.model_copy(update={"member_id": member_id}),
        }
    )


async def start(
    env: WorkflowEnvironment,
    sessions: async_sessionmaker[AsyncSession],
    claim: Claim,
    task_queue: str,
    policy: ClaimPolicy,
) -> WorkflowHandle[Any, Any]:
    claim_id = uuid.uuid4().hex
    now = datetime.now(UTC)
    async with UnitOfWork(sessions) as uow:
        await uow.claims.intake(
            claim_id=claim_id, org_id="org-ts", idempotency_key=None, request_hash="h", claim=claim, received_at=now
        )
        await uow.commit()
    return await env.client.start_workflow(
        ClaimWorkflow.run,
        ClaimWorkflowInput(claim_id=claim_id, org_id="org-ts", received_at=now, policy=policy),
        id=workflow_id(claim_id),
        task_queue=task_queue,
    )


async def test_thirty_days_of_polling_end_in_review_with_bounded_history(
    time_skipping_env: WorkflowEnvironment, sessions: async_sessionmaker[AsyncSession], sandbox_url: str
) -> None:
    """A claim the processor never settles is polled with back-off for 30 days, then goes to an adjuster."""
    env = time_skipping_env
    task_queue = f"ts-{uuid.uuid4().hex[:8]}"
    policy = ClaimPolicy(polls_per_run=20)  # the real 30-day deadline, 4 h cap; continue as new every 20 polls
    async with claim_worker(
        env.client,
        sessions,
        task_queue=task_queue,
        processor_url=sandbox_url,
        trusted_update_keys=TRUSTED_UPDATE_KEYS,
        auto_integrations=True,
    ) as worker:
        run = asyncio.create_task(worker.run())
        handle = await start(env, sessions, claim_for("NEVER"), task_queue, policy)
        state = await wait_for_status(env, handle, ClaimStatus.IN_REVIEW)
        await handle.terminate("test finished")  # no workflow task left to block time skipping
        await worker.shutdown()
        await run
    assert state.review_reason == "no_answer_by_deadline"
    assert state.polls > 150  # 2 s doubling to a 4 h cap over 30 days: ~190 polls
    first_poll_at = state.status_history[2].at  # received, validating, submitted, pending...
    review_at = state.status_history[-1].at
    assert review_at - first_poll_at >= timedelta(days=29, hours=23)
    # Continue-as-new kept each run's history short: the latest run is not the first, and it is small.
    latest = env.client.get_workflow_handle(handle.id)
    assert (await latest.describe()).run_id != handle.result_run_id
    assert len((await latest.fetch_history()).events) < 400


async def wait_for_status(
    env: WorkflowEnvironment, handle: WorkflowHandle[Any, Any], status: ClaimStatus, rounds: int = 600
) -> ClaimState:
    state = ClaimState(claim_id="", org_id="")
    for _ in range(rounds):
        state = await env.client.get_workflow_handle(handle.id).query("state", result_type=ClaimState)
        if state.status is status:
            return state
        await env.sleep(timedelta(hours=6))
    raise AssertionError(f"still {state.status} after waiting")


async def test_review_past_its_sla_escalates_to_a_supervisor(
    time_skipping_env: WorkflowEnvironment, sessions: async_sessionmaker[AsyncSession], sandbox_url: str
) -> None:
    env = time_skipping_env
    task_queue = f"ts-{uuid.uuid4().hex[:8]}"
    policy = ClaimPolicy(poll_initial=timedelta(seconds=1))
    async with claim_worker(
        env.client,
        sessions,
        task_queue=task_queue,
        processor_url=sandbox_url,
        trusted_update_keys=TRUSTED_UPDATE_KEYS,
        auto_integrations=True,
    ) as worker:
        run = asyncio.create_task(worker.run())
        handle = await start(env, sessions, claim_for("DENY"), task_queue, policy)
        state = await wait_for_status(env, handle, ClaimStatus.IN_REVIEW)
        first = state.assigned_adjuster
        assert first in {"alice", "bob"}
        await env.sleep(timedelta(hours=49))
        state = await handle.query("state", result_type=ClaimState)
        await handle.terminate("test finished")  # no workflow task left to block time skipping
        await worker.shutdown()
        await run
    assert state.status is ClaimStatus.IN_REVIEW
    assert state.assigned_adjuster == "carol"
    assert state.escalations == 1
    assert state.status_history[-1].reason.startswith("escalated: no decision within 48h")
    async with UnitOfWork(sessions) as uow:
        record = await uow.claims.get_record(state.claim_id)
    assert record is not None and record.assigned_adjuster == "carol"
