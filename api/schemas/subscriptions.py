"""What the subscription endpoints answer."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from domain.status import ClaimStatus


class SubscriptionRead(BaseModel):
    """A webhook subscription (its secret is never shown again)."""

    subscription_id: str
    url: str | None = Field(description="The webhook's URL (null for an e-mail subscription).")
    email: str | None = Field(default=None, description="The address mailed (null for a webhook).")
    events: list[ClaimStatus] = Field(description="The statuses posted; empty: every status change.")
    active: bool


class SubscriptionList(BaseModel):
    data: list[SubscriptionRead]


class DeliveryRead(BaseModel):
    claim_id: str
    seq: int
    status: str = Field(description="delivering (retried with back-off) or delivered")
    attempts: int
    response_status: int | None
    last_error: str | None
    delivered_at: datetime | None
    updated_at: datetime


class DeliveryLog(BaseModel):
    subscription_id: str
    #: The delivery workflow's status in Temporal (RUNNING while subscribed); null when Temporal did not answer.
    workflow_status: str | None
    data: list[DeliveryRead]
