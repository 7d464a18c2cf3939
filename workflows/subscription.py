"""SubscriptionWorkflow: delivers an organization's claim events to one webhook, in feed order, until it is deleted.

One workflow per subscription (`subscription-<id>`). It looks for the next events (a local activity; between
looks that find none it sleeps on a durable timer, holding no worker slot), posts each in turn and moves on only once the subscriber took it: a subscriber that is down receives everything,
in order, once it is back (each delivery is retried with back-off for as long as it takes). A redelivery asked
through the API (a signal naming the event) is posted before the next events. It continues as new now and then,
so its history stays short.
"""

from __future__ import annotations

import contextlib
from datetime import timedelta

from pydantic import BaseModel
from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from activities.subscription_contracts import (
        DELIVER_EVENT,
        NEXT_EVENTS,
        DeliverEventInput,
        DeliverEventResult,
        EventKey,
        NextEventsInput,
        NextEventsResult,
    )

SUBSCRIPTION_WORKFLOW = "SubscriptionWorkflow"
REDELIVER_SIGNAL = "redeliver"
#: Rounds of waiting for events per run before continuing as new.
ROUNDS_PER_RUN = 100


def subscription_workflow_id(subscription_id: str) -> str:
    return f"subscription-{subscription_id}"


class SubscriptionWorkflowInput(BaseModel):
    subscription_id: str
    #: The feed position delivered up to (a new subscription: the feed's head when it was made).
    position: str
    #: The longest pause between two attempts at one delivery.
    retry_max_seconds: float = 300.0
    #: The pause between two looks for events that found none.
    poll_seconds: float = 2.0


@workflow.defn(name=SUBSCRIPTION_WORKFLOW)
class SubscriptionWorkflow:
    @workflow.init
    def __init__(self, input: SubscriptionWorkflowInput) -> None:
        self._input = input
        self._position = input.position
        self._redeliveries: list[EventKey] = []

    @workflow.run
    async def run(self, input: SubscriptionWorkflowInput) -> None:
        for _ in range(ROUNDS_PER_RUN):
            while self._redeliveries:
                if (await self._deliver(self._redeliveries.pop(0))).skipped:
                    return
            batch: NextEventsResult = await workflow.execute_local_activity(
                NEXT_EVENTS.name,
                NextEventsInput(subscription_id=input.subscription_id, after=self._position),
                result_type=NextEventsResult,
                start_to_close_timeout=timedelta(seconds=15),
                retry_policy=RetryPolicy(maximum_interval=timedelta(seconds=30)),
                summary="look for the next events",
            )
            if not batch.active:
                return  # deleted
            if not batch.events:
                with contextlib.suppress(TimeoutError):  # nothing new: look again after the pause
                    await workflow.wait_condition(
                        lambda: bool(self._redeliveries), timeout=timedelta(seconds=input.poll_seconds)
                    )
                continue
            for event in batch.events:
                if (await self._deliver(event)).skipped:
                    return
                self._position = event.position
        await workflow.wait_condition(workflow.all_handlers_finished)
        workflow.continue_as_new(input.model_copy(update={"position": self._position}))

    async def _deliver(self, event: EventKey) -> DeliverEventResult:
        result: DeliverEventResult = await workflow.execute_activity(
            DELIVER_EVENT.name,
            DeliverEventInput(subscription_id=self._input.subscription_id, event=event),
            result_type=DeliverEventResult,
            start_to_close_timeout=timedelta(seconds=30),
            retry_policy=RetryPolicy(
                initial_interval=timedelta(seconds=1),
                maximum_interval=timedelta(seconds=self._input.retry_max_seconds),
            ),
            summary=f"deliver {event.claim_id} #{event.seq}",
        )
        return result

    @workflow.signal(name=REDELIVER_SIGNAL)
    def redeliver(self, event: EventKey) -> None:
        """Post this event again (the delivery reads it and checks it is the organization's)."""
        self._redeliveries.append(event)
