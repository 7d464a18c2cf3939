"""Webhook subscriptions: what an organization subscribes to, and how each delivery is signed."""

from __future__ import annotations

import hashlib
import hmac
from datetime import datetime
from decimal import Decimal
from typing import Annotated

from pydantic import AnyHttpUrl, BaseModel, ConfigDict, Field, StringConstraints

from domain.status import ClaimStatus

#: Headers of every delivery: when it was signed (Unix seconds), the signature, and the event's feed position
#: (the same on every retry and redelivery: a subscriber drops one it has seen).
TIMESTAMP_HEADER = "Claimflow-Timestamp"
SIGNATURE_HEADER = "Claimflow-Signature"
EVENT_ID_HEADER = "Claimflow-Event-Id"

Secret = Annotated[str, StringConstraints(min_length=16, max_length=200)]


class NewSubscription(BaseModel):
    """What a subscriber asks for: where to post, which statuses (none: every status change), the signing secret."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    url: AnyHttpUrl
    events: Annotated[list[ClaimStatus], Field(max_length=len(ClaimStatus))] = []
    secret: Secret = Field(description="At least 16 characters; every delivery is signed with it (HMAC-SHA256).")


class Subscription(BaseModel):
    model_config = ConfigDict(frozen=True)

    subscription_id: str
    org_id: str
    url: str
    events: list[ClaimStatus]
    active: bool

    def wants(self, status: ClaimStatus) -> bool:
        return not self.events or status in self.events


def signature(secret: str, timestamp: str, body: bytes) -> str:
    """`v1=` and the hex HMAC-SHA256 of `"<timestamp>.<body>"` under the subscription's secret."""
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"v1={digest}"


class ClaimEvent(BaseModel):
    """A claim's status change as subscribers and streams see it: ids, status, amounts and times, no patient data.
    `position` is where it stands in the feed (the SSE id, the webhook's event id)."""

    model_config = ConfigDict(frozen=True)

    position: str
    claim_id: str
    org_id: str
    seq: int
    status: ClaimStatus
    reason: str
    actor: str
    at: datetime
    payer_id: str
    total_charge: Decimal

    def body(self) -> dict[str, object]:
        """The JSON a subscriber or a stream receives."""
        return {
            "id": self.position,
            "type": "claim.status_changed",
            "claim_id": self.claim_id,
            "seq": self.seq,
            "status": self.status.value,
            "reason": self.reason,
            "actor": self.actor,
            "at": self.at.isoformat(),
            "payer_id": self.payer_id,
            "total_charge": str(self.total_charge),
            "link": f"/v1/claims/{self.claim_id}",
        }
