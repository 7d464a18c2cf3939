"""ClaimDriver: starts claims on the fake activities, moves them with updates and skipped time, records their histories."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from temporalio.client import WorkflowHandle, WorkflowHistory, WorkflowUpdateFailedError
from temporalio.common import (
    SearchAttributePair,
    TypedSearchAttributes,
    WorkflowIDConflictPolicy,
    WorkflowIDReusePolicy,
)
from temporalio.exceptions import ApplicationError
from temporalio.testing import WorkflowEnvironment

from activities import contracts
from domain.decision import Decision
from domain.status import ClaimStatus
from tests.workflows.fakes import FakeActivities, Script
from workflows.claim import ClaimWorkflow
from workflows.claim_contract import (
    CANCEL_UPDATE,
    CLAIM_STATUS,
    DECIDE_UPDATE,
    PAYER_ID,
    PROVIDE_INFORMATION_UPDATE,
    REASSIGN_UPDATE,
    STATE_QUERY,
    SUBMIT_UPDATE,
    CancelInput,
    ClaimPolicy,
    ClaimState,
    ClaimWorkflowInput,
    ClaimWorkflowResult,
    DecideInput,
    ProvideInformationInput,
    ReassignInput,
    SubmitInput,
    UpdateResult,
    workflow_id,
)

HISTORIES = Path(__file__).parent / "histories"
#: `CLAIMFLOW_RECORD_HISTORIES=1` stores each path's history (every run of it) under histories/.
RECORD = os.environ.get("CLAIMFLOW_RECORD_HISTORIES") == "1"
#: What an adjuster may approve unless a test says otherwise.
AUTHORITY = Decimal("5000.00")


def history_files(path: str, runs: int) -> list[Path]:
    """Where a path's runs are stored: `<path>.json` for the run the claim started with, then `<path>.run<n>.json`."""
    return [HISTORIES / (f"{path}.json" if n == 1 else f"{path}.run{n}.json") for n in range(1, runs + 1)]


class ClaimDriver:
    """One test's claims, started on the test's task queue."""

    def __init__(self, env: WorkflowEnvironment, fakes: FakeActivities, task_queue: str, path: str | None) -> None:
        """`path`: the name its histories are stored under when recording (None: never stored)."""
        self.env = env
        self.fakes = fakes
        self._task_queue = task_queue
        self._path = path
        self._first_runs: dict[str, str] = {}

    async def start(
        self, script: Script | None = None, policy: ClaimPolicy | None = None, *, task_timeout: timedelta | None = None
    ) -> WorkflowHandle[Any, Any]:
        """Start a claim's workflow the way services/claim_workflows.py does, with the fakes following `script`."""
        claim_id = uuid.uuid4().hex
        script = script or Script()
        self.fakes.scripts[claim_id] = script
        started = await self.env.client.start_workflow(
            ClaimWorkflow.run,
            ClaimWorkflowInput(
                claim_id=claim_id, org_id="org-paths", received_at=datetime.now(UTC), policy=policy or ClaimPolicy()
            ),
            id=workflow_id(claim_id),
            task_queue=self._task_queue,
            id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
            id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
            search_attributes=TypedSearchAttributes(
                [
                    SearchAttributePair(CLAIM_STATUS, ClaimStatus.RECEIVED.value),
                    SearchAttributePair(PAYER_ID, script.payer_id),
                ]
            ),
            task_timeout=task_timeout,
        )
        assert started.first_execution_run_id is not None
        self._first_runs[started.id] = started.first_execution_run_id
        return started  # no run id: updates and queries reach the latest run; its result() lets time skip

    async def state(self, handle: WorkflowHandle[Any, Any]) -> ClaimState:
        state: ClaimState = await handle.query(STATE_QUERY, result_type=ClaimState)
        return state

    async def wait_for(
        self,
        handle: WorkflowHandle[Any, Any],
        until: Callable[[ClaimState], bool],
        *,
        skip: timedelta | None = None,
        rounds: int = 250,
    ) -> ClaimState:
        """Query the claim until `until(state)`; between queries skip `skip` of workflow time (else 20 ms of real time)."""
        state = await self.state(handle)
        for _ in range(rounds):
            if until(state):
                return state
            if skip is None:
                await asyncio.sleep(0.02)
            else:
                await self.env.sleep(skip)
            state = await self.state(handle)
        raise AssertionError(f"the claim never got there: {state.status.value}, {state.waiting_for!r}")

    async def waiting_in(
        self, handle: WorkflowHandle[Any, Any], status: ClaimStatus, *, skip: timedelta | None = timedelta(seconds=1)
    ) -> ClaimState:
        """Until the claim is in `status` and waits there (for a decision, information, the next poll...)."""
        return await self.wait_for(handle, lambda state: state.status is status and bool(state.waiting_for), skip=skip)

    # ---- updates, as the API sends them ----------------------------------------------------------------

    async def decide(
        self,
        handle: WorkflowHandle[Any, Any],
        decision: Decision,
        *,
        by: str,
        supervisor: bool = False,
        authority_limit: Decimal | None = AUTHORITY,
    ) -> UpdateResult:
        result: UpdateResult = await handle.execute_update(
            DECIDE_UPDATE,
            DecideInput(
                decision=decision,
                adjuster_id=by,
                supervisor=supervisor,
                authority_limit=authority_limit,
                note_id=f"note-{uuid.uuid4().hex[:8]}",
            ),
            result_type=UpdateResult,
        )
        return result

    async def reassign(
        self, handle: WorkflowHandle[Any, Any], to: str | None, *, by: str = "supervisor:carol"
    ) -> UpdateResult:
        result: UpdateResult = await handle.execute_update(
            REASSIGN_UPDATE, ReassignInput(actor=by, adjuster_id=to, note_id="note-reassign"), result_type=UpdateResult
        )
        return result

    async def cancel(self, handle: WorkflowHandle[Any, Any], *, by: str = "submitter") -> UpdateResult:
        result: UpdateResult = await handle.execute_update(
            CANCEL_UPDATE, CancelInput(actor=by, note_id="note-cancel"), result_type=UpdateResult
        )
        return result

    async def provide_information(self, handle: WorkflowHandle[Any, Any], *, by: str = "submitter") -> UpdateResult:
        result: UpdateResult = await handle.execute_update(
            PROVIDE_INFORMATION_UPDATE, ProvideInformationInput(actor=by, note_id="note-info"), result_type=UpdateResult
        )
        return result

    async def submit(self, handle: WorkflowHandle[Any, Any], *, by: str = "operator") -> UpdateResult:
        result: UpdateResult = await handle.execute_update(
            SUBMIT_UPDATE, SubmitInput(actor=by), result_type=UpdateResult
        )
        return result

    # ---- the end -----------------------------------------------------------------------------------------

    async def finish(self, handle: WorkflowHandle[Any, Any]) -> ClaimWorkflowResult:
        """The claim's result (time skips until it ends); its history is stored when recording."""
        result: ClaimWorkflowResult = await handle.result()
        if RECORD and self._path:
            runs = await self.runs(handle)
            for history, file in zip(runs, history_files(self._path, len(runs)), strict=True):
                file.write_text(history.to_json())
        return result

    async def assert_path(
        self, handle: WorkflowHandle[Any, Any], result: ClaimWorkflowResult, path: list[ClaimStatus]
    ) -> ClaimState:
        """The claim went exactly `path`: in its state, in its result, and in the status records written, in order
        (seq 1 on: the API writes "received", seq 0)."""
        state = await self.state(handle)
        assert [change.status for change in state.status_history] == path
        assert [change.seq for change in state.status_history] == list(range(len(path)))
        records = self.fakes.status_records(claim_id(handle))
        assert [(record.seq, record.status) for record in records] == list(enumerate(path))[1:]
        assert result.status is state.status is path[-1]
        return state

    def side_effects(self, handle: WorkflowHandle[Any, Any]) -> dict[str, int]:
        """How often the processor was asked to act on the claim."""
        return {
            "submitted": len(self.fakes.inputs(contracts.SUBMIT_CLAIM, claim_id(handle))),
            "paid": len(self.fakes.inputs(contracts.ISSUE_PAYMENT, claim_id(handle))),
        }

    async def runs(self, handle: WorkflowHandle[Any, Any]) -> list[WorkflowHistory]:
        """The history of every run of the claim's workflow, first to last."""
        histories: list[WorkflowHistory] = []
        run_id: str | None = self._first_runs[handle.id]
        while run_id:
            history = await self.env.client.get_workflow_handle(handle.id, run_id=run_id).fetch_history()
            histories.append(history)
            last = history.events[-1]
            moved_on = last.HasField("workflow_execution_continued_as_new_event_attributes")
            run_id = (
                last.workflow_execution_continued_as_new_event_attributes.new_execution_run_id if moved_on else None
            )
        return histories

    async def close(self) -> None:
        """Let held activities go and end what is still running, so no timer of this test outlives it."""
        self.fakes.open_every_gate()
        for claim_workflow_id in self._first_runs:
            handle = self.env.client.get_workflow_handle(claim_workflow_id)
            try:
                await handle.terminate("test finished")
            except Exception:
                pass


def claim_id(handle: WorkflowHandle[Any, Any]) -> str:
    return handle.id.removeprefix("claim-")


async def refusal(update: Any) -> ApplicationError:
    """Await an update that must be refused; the refusal (its `type` is the domain error's code)."""
    with pytest.raises(WorkflowUpdateFailedError) as refused:
        await update
    cause = refused.value.cause
    assert isinstance(cause, ApplicationError), cause
    return cause


def outcome(results: Sequence[UpdateResult | BaseException]) -> tuple[list[UpdateResult], list[str]]:
    """Of updates sent together: those that took effect, and the refusal types of the others."""
    taken: list[UpdateResult] = []
    refused: list[str] = []
    for result in results:
        if isinstance(result, UpdateResult):
            taken.append(result)
        elif isinstance(result, WorkflowUpdateFailedError) and isinstance(result.cause, ApplicationError):
            refused.append(result.cause.type or "")
        else:
            raise result
    return taken, refused


def update_events(history: WorkflowHistory) -> list[str]:
    """The update events in a history: an update its validator refuses leaves none."""
    kinds = (event.WhichOneof("attributes") or "" for event in history.events)
    return [kind for kind in kinds if kind.startswith("workflow_execution_update")]


async def signal_taken(handle: WorkflowHandle[Any, Any]) -> None:
    """Until a workflow task that started after the latest signal has completed: the workflow took it (real time).

    The server adds a signal to the history when the workflow task in flight ends, not when it arrives."""
    async with asyncio.timeout(20):
        while True:
            kinds = [event.WhichOneof("attributes") or "" for event in (await handle.fetch_history()).events]
            signalled = [i for i, kind in enumerate(kinds) if kind == "workflow_execution_signaled_event_attributes"]
            after = kinds[signalled[-1] :] if signalled else []
            if "workflow_task_started_event_attributes" in after:
                started = after.index("workflow_task_started_event_attributes")
                if "workflow_task_completed_event_attributes" in after[started:]:
                    return
            await asyncio.sleep(0.05)
