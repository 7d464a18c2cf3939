"""The bare peer of a claim: a workflow that runs K no-op activities, regular or local as its plan says."""

from __future__ import annotations

from datetime import timedelta

from temporalio import activity, workflow

TIMEOUT = timedelta(seconds=15)


@activity.defn(name="bench_noop")
async def noop(step: int) -> int:
    """Does nothing: what is left is the engine's own cost of a step."""
    return step


@workflow.defn(name="BareWorkflow")
class BareWorkflow:
    @workflow.run
    async def run(self, plan: list[bool]) -> int:
        """One no-op activity per entry: True runs it as a local activity, False as a regular one."""
        for step, local in enumerate(plan):
            if local:
                await workflow.execute_local_activity(noop, step, start_to_close_timeout=TIMEOUT)
            else:
                await workflow.execute_activity(noop, step, start_to_close_timeout=TIMEOUT)
        return len(plan)
