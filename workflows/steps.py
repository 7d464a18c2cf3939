"""How ClaimWorkflow runs an activity: by its contract's name, with the timeouts and retries of its kind."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import TypeVar

from pydantic import BaseModel
from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from activities.contracts import NON_RETRYABLE, Activity

InputT = TypeVar("InputT", bound=BaseModel)
ResultT = TypeVar("ResultT", bound=BaseModel)


@dataclass(frozen=True)
class StepKind:
    """How long one attempt may take and how attempts are retried."""

    timeout: timedelta
    retry: RetryPolicy


#: Database steps: short, retried until the database is back (an outage delays claims, never loses them).
DATABASE = StepKind(
    timedelta(seconds=15),
    RetryPolicy(
        initial_interval=timedelta(milliseconds=500),
        maximum_interval=timedelta(seconds=10),
        non_retryable_error_types=NON_RETRYABLE,
    ),
)
#: Processor calls: idempotency keys make every retry safe; back off to a minute between tries.
PROCESSOR = StepKind(
    timedelta(seconds=15),  # above the HTTP client's timeout (10 s)
    RetryPolicy(
        initial_interval=timedelta(seconds=1),
        maximum_interval=timedelta(minutes=1),
        non_retryable_error_types=NON_RETRYABLE,
    ),
)


async def run(activity: Activity[InputT, ResultT], arg: InputT, *, kind: StepKind, summary: str) -> ResultT:
    """A regular activity: scheduled by the server, run by any worker."""
    result: ResultT = await workflow.execute_activity(
        activity.name,
        arg,
        result_type=activity.result,
        start_to_close_timeout=kind.timeout,
        retry_policy=kind.retry,
        summary=summary,
    )
    return result


async def run_local(activity: Activity[InputT, ResultT], arg: InputT, *, kind: StepKind, summary: str) -> ResultT:
    """A short step run inside the workflow task that needs it, saving the server a round trip."""
    result: ResultT = await workflow.execute_local_activity(
        activity.name,
        arg,
        result_type=activity.result,
        start_to_close_timeout=kind.timeout,
        retry_policy=kind.retry,
        summary=summary,
    )
    return result
