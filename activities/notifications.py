"""Activities that deliver claim events to webhook subscribers: wait for the next events, post one, signed."""

from __future__ import annotations

import json
import time

import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.contracts import (
    DELIVER_EVENT,
    NEXT_EVENTS,
    DeliverEventInput,
    DeliverEventResult,
    EventKey,
    NextEventsInput,
    NextEventsResult,
)
from db.records import ClaimScope
from db.repositories.events import FeedPosition
from db.uow import UnitOfWork
from domain.subscriptions import EVENT_ID_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER, signature

#: How long a subscriber may take to answer one delivery.
DELIVERY_TIMEOUT_SECONDS = 10.0
#: The failure type of a delivery the subscriber did not take (retried with back-off).
NOT_DELIVERED = "webhook_not_delivered"


class WebhookActivities:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], transport: httpx.AsyncBaseTransport | None = None):
        self._sessions = sessions
        self._transport = transport

    @activity.defn(name=NEXT_EVENTS.name)
    async def next_events(self, input: NextEventsInput) -> NextEventsResult:
        """The next events for the subscription (its organization's, of the statuses it wants), perhaps none;
        inactive once the subscription is deleted. Quick: the workflow waits on a timer between looks, so a
        waiting subscription holds no activity slot."""
        async with UnitOfWork(self._sessions) as uow:
            subscription = await uow.subscriptions.get(input.subscription_id)
            if subscription is None or not subscription.active:
                return NextEventsResult(active=False)
            events = await uow.events.after(
                FeedPosition.parse(input.after),
                scope=ClaimScope(kind="organization", subject=subscription.org_id),
                statuses=subscription.events or None,
                limit=input.limit,
            )
        keys = [EventKey(claim_id=event.claim_id, seq=event.seq, position=event.position) for event in events]
        return NextEventsResult(active=True, events=keys)

    @activity.defn(name=DELIVER_EVENT.name)
    async def deliver_event(self, input: DeliverEventInput) -> DeliverEventResult:
        """Post the event, signed, to the subscriber; a 2xx answer delivers it. Anything else is logged on the
        delivery and raised, so the workflow's retry policy tries again with back-off, for as long as it takes."""
        async with UnitOfWork(self._sessions) as uow:
            subscription = await uow.subscriptions.get(input.subscription_id)
            secret = await uow.subscriptions.secret(input.subscription_id)
            if subscription is None or secret is None or not subscription.active:
                return DeliverEventResult(delivered=False, skipped=True)
            scope = ClaimScope(kind="organization", subject=subscription.org_id)
            event = await uow.events.one(input.event.claim_id, input.event.seq, scope=scope)
        if event is None:  # not this organization's (a forged signal): never sent
            return DeliverEventResult(delivered=False, skipped=True)
        body = json.dumps(event.body(), separators=(",", ":")).encode()
        timestamp = str(int(time.time()))
        headers = {
            "content-type": "application/json",
            TIMESTAMP_HEADER: timestamp,
            SIGNATURE_HEADER: signature(secret, timestamp, body),
            EVENT_ID_HEADER: event.position,
        }
        status: int | None = None
        error: str | None = None
        try:
            async with httpx.AsyncClient(timeout=DELIVERY_TIMEOUT_SECONDS, transport=self._transport) as http:
                response = await http.post(subscription.url, content=body, headers=headers)
            status = response.status_code
            if not response.is_success:
                error = f"the subscriber answered {status}"
        except httpx.HTTPError as exc:  # our words: the library's message may name hosts, never claim data
            error = f"the subscriber could not be reached ({type(exc).__name__})"
        async with UnitOfWork(self._sessions) as uow:
            await uow.subscriptions.record_attempt(
                input.subscription_id,
                event.claim_id,
                event.seq,
                delivered=error is None,
                response_status=status,
                error=error,
            )
            await uow.commit()
        if error is not None:
            raise ApplicationError(error, type=NOT_DELIVERED)
        activity.logger.info(
            "webhook.delivered",
            extra={"claim_id": event.claim_id, "subscription_id": input.subscription_id, "seq": event.seq},
        )
        return DeliverEventResult(delivered=True, response_status=status)
