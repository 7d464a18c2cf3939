"""Replay: the stored history of every claim path replays on the current ClaimWorkflow code.

histories/ holds one history per path of the fast ring (test_claim_paths.py: `<path>.json`, and
`<path>.run<n>.json` for the later runs of a claim that continued as new), recorded from ClaimWorkflow v1
with `CLAIMFLOW_RECORD_HISTORIES=1`. Until the first release they prove that the code replays what it
records, and a change to the workflow's commands records them again. From the first release on they are
the released code's histories: they stay, and replaying them gates every change to the workflow (the
README's "Changing the workflow" says how a change keeps them replaying).
"""

from __future__ import annotations

import importlib
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
RECORD_AGAIN = "CLAIMFLOW_RECORD_HISTORIES=1 pytest tests/workflows/test_claim_paths.py"

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


def fast_ring_paths() -> set[str]:
    """The paths test_claim_paths.py defines: its tests, less `test_`, but for those expected to fail."""
    module = importlib.import_module("tests.workflows.test_claim_paths")
    return {
        name.removeprefix("test_")
        for name, test in vars(module).items()
        if name.startswith("test_")
        and callable(test)
        and not any(mark.name == "xfail" for mark in getattr(test, "pytestmark", []))
    }


def stored_paths() -> set[str]:
    return {path.stem for path in HISTORIES.glob("*.json") if ".run" not in path.stem}


def test_every_path_of_the_fast_ring_has_a_stored_history() -> None:
    paths = fast_ring_paths()
    assert len(paths) >= 15, sorted(paths)
    missing = sorted(paths - stored_paths())
    assert not missing, f"no stored history for {missing}: record them with {RECORD_AGAIN}"


@pytest.mark.parametrize("runner", RUNNERS)
async def test_stored_histories_replay_on_current_code(runner: str) -> None:
    stored = sorted(HISTORIES.glob("*.json"))
    assert stored, f"no stored histories: record them with {RECORD_AGAIN}"
    histories = [WorkflowHistory.from_json(path.stem, path.read_text()) for path in stored]
    assert await replay(histories, RUNNERS[runner]()) == {}


async def test_every_path_replays(
    temporal: Client, sessions: async_sessionmaker[AsyncSession], sandbox_url: str
) -> None:
    """Run a claim down each path on the real stack, then replay its history: the workflow is deterministic."""
    async with running_stack(temporal, sessions, sandbox_url) as stack:
        paid = await stack.submit(member("M"))
        invalid_body = member("M")
        invalid_body["total_charge"] = "1.00"
        invalid = await stack.submit(invalid_body)
        cancelled = await stack.submit(member("DENY"))
        denied = await stack.submit(member("DENY"))
        await stack.wait_for(cancelled, "in_review")
        response = await stack.api.post(f"/v1/claims/{cancelled}/cancel", headers=stack.headers)
        assert response.status_code == 200, response.text
        review = await stack.wait_for(denied, "in_review")
        adjuster = auth(Role.ADJUSTER, sub=review["assigned_adjuster"], org=None)
        response = await stack.api.post(f"/v1/claims/{denied}/decision", json={"action": "approve"}, headers=adjuster)
        assert response.status_code == 200, response.text
        finished = {
            "paid": await stack.wait_for(paid, "closed"),
            "invalid": await stack.wait_for(invalid, "invalid"),
            "cancelled": await stack.wait_for(cancelled, "cancelled"),
            "review_approved": await stack.wait_for(denied, "closed"),
        }
        histories = []
        for claim in finished.values():
            handle = temporal.get_workflow_handle(f"claim-{claim['claim_id']}")
            await handle.result()
            histories.append(await handle.fetch_history())
    assert await replay(histories) == {}
