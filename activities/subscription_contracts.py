"""The contract between SubscriptionWorkflow and its activities: what they are called and what they take and give."""

from __future__ import annotations

from pydantic import BaseModel

from activities.contracts import Activity


class NextEventsInput(BaseModel):
    """The events of the subscription's organization after feed position `after`."""

    subscription_id: str
    after: str
    limit: int = 50


class EventKey(BaseModel):
    """An event by its claim and seq: the delivery reads the event itself, so history never decides what is sent."""

    claim_id: str
    seq: int
    position: str


class NextEventsResult(BaseModel):
    #: False once the subscription is deleted: the delivery workflow ends.
    active: bool
    events: list[EventKey] = []


class DeliverEventInput(BaseModel):
    subscription_id: str
    event: EventKey


class DeliverEventResult(BaseModel):
    delivered: bool
    #: The subscription is deleted, or the event is not one of its organization's: nothing was sent.
    skipped: bool = False
    response_status: int | None = None


NEXT_EVENTS = Activity("next_subscription_events", NextEventsInput, NextEventsResult)
DELIVER_EVENT = Activity("deliver_event", DeliverEventInput, DeliverEventResult)
