"""Every call the use cases make to Temporal: each bounded by a timeout, its failures turned into service errors.

The bound is asyncio's timeout around the whole call, so it covers the client's own retries (a
Temporal server that is down is retried for seconds) as well as one RPC (rpc_timeout). None of
these is ever called with a database transaction open: read and commit, then call.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

from temporalio.client import WorkflowHandle, WorkflowUpdateFailedError, WorkflowUpdateRPCTimeoutOrCancelledError
from temporalio.common import (
    SearchAttributePair,
    TypedSearchAttributes,
    WorkflowIDConflictPolicy,
    WorkflowIDReusePolicy,
)
from temporalio.exceptions import ApplicationError, WorkflowAlreadyStartedError
from temporalio.service import RPCError, RPCStatusCode

from domain.claim import Claim
from domain.status import ClaimStatus
from services.context import ServiceContext
from services.errors import UpdateNotFinishedError, UpdateRefusedError, WorkflowServiceUnavailableError
from workflows.claim_contract import (
    CLAIM_STATUS,
    PAYER_ID,
    PROCESSOR_NOTICE_SIGNAL,
    STATE_QUERY,
    WORKFLOW_NAME,
    ClaimState,
    ClaimWorkflowInput,
    ProcessorNotice,
    UpdateResult,
    workflow_id,
)
from workflows.update_signatures import sign

#: What an unreachable Temporal means to a submission: retrying with the same key is safe.
START_UNAVAILABLE = (
    "the workflow service did not answer; retry shortly with the same Idempotency-Key — "
    "a claim already recorded is not duplicated"
)


async def start_workflow(
    context: ServiceContext, claim_id: str, org_id: str, claim: Claim, received_at: datetime
) -> None:
    """Start the claim's workflow; one that already exists (a retried request) is left as it is."""
    seconds = context.config.temporal_start_timeout_seconds
    lines = len(claim.lines)
    try:
        async with asyncio.timeout(seconds):
            await context.temporal.start_workflow(
                WORKFLOW_NAME,
                ClaimWorkflowInput(
                    claim_id=claim_id, org_id=org_id, received_at=received_at, policy=context.config.policy
                ),
                id=workflow_id(claim_id),
                task_queue=context.config.task_queue,
                id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
                id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
                search_attributes=TypedSearchAttributes(
                    [
                        SearchAttributePair(CLAIM_STATUS, ClaimStatus.RECEIVED.value),
                        SearchAttributePair(PAYER_ID, claim.insurance.payer_id),
                    ]
                ),
                static_summary=f"Claim {claim_id[:8]} · payer {claim.insurance.payer_id} · {lines} line{'s' if lines != 1 else ''} · {claim.total_charge:.2f}",
                static_details=(
                    f"**Claim id:** {claim_id}\n\n**Organization:** {org_id}\n\n**Payer:** {claim.insurance.payer_id}\n\n"
                    f"**Billed:** {claim.total_charge:.2f} on {lines} line(s)\n\n**Frequency code:** {claim.frequency_code.value}"
                ),
                rpc_timeout=timedelta(seconds=seconds),
            )
    except WorkflowAlreadyStartedError:
        pass  # it ran (and finished) before: the claim exists, nothing more to start
    except (RPCError, RuntimeError, TimeoutError) as exc:  # RuntimeError: a lazy client that cannot connect at all
        raise WorkflowServiceUnavailableError(START_UNAVAILABLE) from exc


async def live_state(context: ServiceContext, claim_id: str) -> ClaimState | None:
    """The workflow's live state, or None when the workflow does not answer in time (the record still does)."""
    seconds = context.config.temporal_query_timeout_seconds
    handle: WorkflowHandle[Any, Any] = context.temporal.get_workflow_handle(workflow_id(claim_id))
    try:
        async with asyncio.timeout(seconds):
            state: ClaimState = await handle.query(
                STATE_QUERY, result_type=ClaimState, rpc_timeout=timedelta(seconds=seconds)
            )
        return state
    except (RPCError, RuntimeError, TimeoutError):
        return None


async def update(context: ServiceContext, claim_id: str, name: str, arg: Any, *, what: str) -> UpdateResult:
    """Deliver an update (`what` names it to the caller: "decision", …) and wait until the workflow applied it.

    UpdateRefusedError when it definitely was not applied (refused, or the workflow has ended);
    UpdateNotFinishedError or WorkflowServiceUnavailableError when it may still be.
    """
    seconds = context.config.temporal_update_timeout_seconds
    handle: WorkflowHandle[Any, Any] = context.temporal.get_workflow_handle(workflow_id(claim_id))
    # Signed: the worker runs no claim update the API did not sign (workers/update_guard.py).
    signature = sign(context.config.update_signing_key, handle.id, name, arg, datetime.now(UTC))
    try:
        async with asyncio.timeout(seconds):
            result: UpdateResult = await handle.execute_update(
                name,
                arg.model_copy(update={"signature": signature}),
                result_type=UpdateResult,
                rpc_timeout=timedelta(seconds=seconds),
            )
        return result
    except WorkflowUpdateFailedError as exc:
        cause = exc.cause
        if isinstance(cause, ApplicationError):  # its type is the refusing rule's code (a DomainError's)
            raise UpdateRefusedError(cause.type, cause.message) from exc
        raise UpdateRefusedError(None, str(cause or exc)) from exc
    except (TimeoutError, WorkflowUpdateRPCTimeoutOrCancelledError) as exc:
        # The client turns a cancelled wait into this error too: a request being cancelled stays cancelled.
        _raise_if_cancelled()
        raise UpdateNotFinishedError(
            f"the claim's workflow did not finish applying this {what} within {seconds:g} s; it may still be "
            f"applied — GET /v1/claims/{claim_id} to see the claim's status before sending it again"
        ) from exc
    except RPCError as exc:
        if exc.status is RPCStatusCode.NOT_FOUND:
            raise UpdateRefusedError(None, "the claim's workflow has finished; it can no longer change") from exc
        raise _update_unavailable(claim_id, what) from exc
    except RuntimeError as exc:  # a lazy client that cannot connect at all
        raise _update_unavailable(claim_id, what) from exc


def _update_unavailable(claim_id: str, what: str) -> WorkflowServiceUnavailableError:
    return WorkflowServiceUnavailableError(
        f"the workflow service could not be reached, so this {what} may not have reached the claim; "
        f"GET /v1/claims/{claim_id} to see the claim's status, then retry shortly"
    )


def _raise_if_cancelled() -> None:
    task = asyncio.current_task()
    if task is not None and task.cancelling():
        raise asyncio.CancelledError


async def signal_notice(context: ServiceContext, claim_id: str, notice: ProcessorNotice) -> None:
    """Wake the claim's workflow with the processor's notice; a finished claim has nothing to wake."""
    seconds = context.config.temporal_signal_timeout_seconds
    handle: WorkflowHandle[Any, Any] = context.temporal.get_workflow_handle(workflow_id(claim_id))
    try:
        async with asyncio.timeout(seconds):
            await handle.signal(PROCESSOR_NOTICE_SIGNAL, notice, rpc_timeout=timedelta(seconds=seconds))
    except (RPCError, RuntimeError, TimeoutError) as exc:
        if isinstance(exc, RPCError) and exc.status is RPCStatusCode.NOT_FOUND:
            return
        raise WorkflowServiceUnavailableError(
            "the workflow service did not answer; send the notice again shortly"
        ) from exc


async def check_health(context: ServiceContext) -> None:
    """Raise unless the Temporal server answers its health check in time."""
    seconds = context.config.temporal_query_timeout_seconds
    async with asyncio.timeout(seconds):
        await context.temporal.service_client.check_health(timeout=timedelta(seconds=seconds))
