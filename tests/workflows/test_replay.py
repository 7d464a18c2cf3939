"""Replay: today's ClaimWorkflow code must replay the histories of claims that ran before it."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.client import Client, WorkflowHistory
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker import Replayer, WorkflowRunner
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner

from api.auth import Role
from tests.api.test_claim_lifecycle import member
from tests.support.stack import auth, running_stack
from workers.workflow_runner import workflow_runner
from workflows.claim import ClaimWorkflow

HISTORIES = Path(__file__).parent / "histories"


#: The runner the claim worker uses, and the SDK's own sandbox: the histories replay on both.
RUNNERS = {
    "claimflow": lambda: workflow_runner(pydantic_data_converter),
    "sandbox": SandboxedWorkflowRunner,
}


async def replay(histories: list[WorkflowHistory], runner: WorkflowRunner | None = None) -> dict[str, str]:
    """Replay each history on the current code (on the worker's runner by default); the failures by run id."""

    async def each() -> AsyncIterator[WorkflowHistory]:
        for history in histories:
            yield history

    replayer = Replayer(
        workflows=[ClaimWorkflow],
        data_converter=pydantic_data_converter,
        workflow_runner=runner or workflow_runner(pydantic_data_converter),
    )
    results = await replayer.replay_workflows(each(), raise_on_replay_failure=False)
    return {run_id: str(error) for run_id, error in results.replay_failures.items()}


@pytest.mark.parametrize("runner", RUNNERS)
async def test_stored_histories_replay_on_current_code(runner: str) -> None:
    """Histories recorded from earlier versions: `<path>-<version>.json`. After a change to the workflow's
    commands, `CLAIMFLOW_RECORD_HISTORIES=<version> pytest tests/workflows/test_replay.py` adds the new
    version's (v1: before any patch; v2: after the `batched-records` patch)."""
    stored = sorted(HISTORIES.glob("*.json"))
    assert stored, "no stored histories: run this module with CLAIMFLOW_RECORD_HISTORIES=<version>"
    histories = [WorkflowHistory.from_json(path.stem, path.read_text()) for path in stored]
    assert await replay(histories, RUNNERS[runner]()) == {}


async def test_every_path_replays(
    temporal: Client, sessions: async_sessionmaker[AsyncSession], sandbox_url: str
) -> None:
    """Run a claim down each path, then replay its history: the workflow is deterministic."""
    async with running_stack(temporal, sessions, sandbox_url) as stack:
        paid = await stack.submit(member("M"))
        invalid_body = member("M")
        invalid_body["total_charge"] = "1.00"
        invalid = await stack.submit(invalid_body)
        cancelled = await stack.submit(member("NEVER"))
        denied = await stack.submit(member("DENY"))
        await stack.wait_for(cancelled, "pending")
        await stack.api.post(f"/v1/claims/{cancelled}/cancel", headers=stack.headers)
        review = await stack.wait_for(denied, "in_review")
        adjuster = auth(Role.ADJUSTER, sub=review["assigned_adjuster"], org=None)
        await stack.api.post(f"/v1/claims/{denied}/decision", json={"action": "approve"}, headers=adjuster)
        finished = {
            "paid": await stack.wait_for(paid, "closed"),
            "invalid": await stack.wait_for(invalid, "invalid"),
            "cancelled": await stack.wait_for(cancelled, "cancelled"),
            "review_approved": await stack.wait_for(denied, "closed"),
        }
        histories = {}
        for name, claim in finished.items():
            handle = temporal.get_workflow_handle(f"claim-{claim['claim_id']}")
            await handle.result()
            histories[name] = await handle.fetch_history()
    assert await replay(list(histories.values())) == {}
    if version := os.environ.get("CLAIMFLOW_RECORD_HISTORIES"):
        for name, history in histories.items():
            (HISTORIES / f"{name}-{version}.json").write_text(history.to_json())
