"""Activities that deliver claim events to subscribers: find the next events; post one to a webhook, signed, or mail
it (to a subscribed address, or to the claim's assignee)."""

from __future__ import annotations

import json
import time

import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio import activity
from temporalio.exceptions import ApplicationError, ApplicationErrorCategory

from activities.mailer import Mailer, MailNotSent
from activities.subscription_contracts import (
    DELIVER_EVENT,
    NEXT_EVENTS,
    DeliverEventInput,
    DeliverEventResult,
    EventKey,
    NextEventsInput,
    NextEventsResult,
)
from db.records import EVERY_CLAIM, ClaimScope
from db.repositories.events import FeedPosition
from db.uow import UnitOfWork
from domain.subscriptions import (
    EVENT_ID_HEADER,
    EVERY_ORGANIZATION,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    Channel,
    ClaimEvent,
    Subscription,
    signature,
)

#: How long a subscriber may take to answer one delivery.
DELIVERY_TIMEOUT_SECONDS = 10.0
#: The failure type of a delivery the subscriber did not take (retried with back-off).
NOT_DELIVERED = "webhook_not_delivered"


class NotificationActivities:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        *,
        mailer: Mailer | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self._sessions = sessions
        self._mailer = mailer
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
                scope=scope_of(subscription),
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
            found = await uow.subscriptions.with_secret(input.subscription_id)
            if found is None or not found[0].active:
                return DeliverEventResult(delivered=False, skipped=True)
            subscription, secret = found
            event = await uow.events.one(input.event.claim_id, input.event.seq, scope=scope_of(subscription))
            assignee = (
                await uow.reference.get_adjuster(await uow.claims.assignee(event.claim_id) or "")
                if event is not None and subscription.channel is Channel.ASSIGNEE_EMAIL
                else None
            )
        if event is None:  # not this organization's (a forged signal): never sent
            return DeliverEventResult(delivered=False, skipped=True)
        match subscription.channel:
            case Channel.WEBHOOK:
                status, error = await self._post(subscription.url, secret, event)
            case Channel.EMAIL:
                status, error = None, await self._mail(subscription.email, event)
            case Channel.ASSIGNEE_EMAIL:
                status, error = None, await self._mail(assignee.email if assignee else None, event)
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
            # benign: retried as long as it takes, logged in the delivery log, not as a worker error each attempt
            raise ApplicationError(error, type=NOT_DELIVERED, category=ApplicationErrorCategory.BENIGN)
        activity.logger.info(
            "notification.delivered",
            extra={"claim_id": event.claim_id, "subscription_id": input.subscription_id, "seq": event.seq},
        )
        return DeliverEventResult(delivered=True, response_status=status)

    async def _mail(self, to: str | None, event: ClaimEvent) -> str | None:
        """Mail the event; the error, if it was not sent. No address (an assignee without one): nothing to send."""
        if to is None:
            return None
        if self._mailer is None:
            return "e-mail is not configured on this worker (CLAIMFLOW_SMTP_HOST)"
        subject, text = event.mail(self._mailer.config.public_url)
        try:
            await self._mailer.send(to, subject, text)
        except MailNotSent as exc:
            return str(exc)
        return None

    async def _post(self, url: str, secret: str, event: ClaimEvent) -> tuple[int | None, str | None]:
        """Post the event, signed; the answer's status and the error, if it was not taken."""
        body = json.dumps(event.body(), separators=(",", ":")).encode()
        timestamp = str(int(time.time()))
        headers = {
            "content-type": "application/json",
            TIMESTAMP_HEADER: timestamp,
            SIGNATURE_HEADER: signature(secret, timestamp, body),
            EVENT_ID_HEADER: event.position,
        }
        try:
            async with httpx.AsyncClient(timeout=DELIVERY_TIMEOUT_SECONDS, transport=self._transport) as http:
                response = await http.post(url, content=body, headers=headers)
        except httpx.HTTPError as exc:  # our words: the library's message may name hosts, never claim data
            return None, f"the subscriber could not be reached ({type(exc).__name__})"
        if not response.is_success:
            return response.status_code, f"the subscriber answered {response.status_code}"
        return response.status_code, None


def scope_of(subscription: Subscription) -> ClaimScope:
    """The claims a subscription hears of: its organization's (the engine's own: every claim)."""
    if subscription.org_id == EVERY_ORGANIZATION:
        return EVERY_CLAIM
    return ClaimScope(kind="organization", subject=subscription.org_id)
