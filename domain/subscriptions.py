"""Webhook subscriptions: what an organization subscribes to, and how each delivery is signed."""

from __future__ import annotations

import hashlib
import hmac
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Annotated

from pydantic import AnyHttpUrl, BaseModel, ConfigDict, EmailStr, Field, StringConstraints, model_validator

from domain.status import ClaimStatus

#: Headers of every delivery: when it was signed (Unix seconds), the signature, and the event's feed position
#: (the same on every retry and redelivery: a subscriber drops one it has seen).
TIMESTAMP_HEADER = "Claimflow-Timestamp"
SIGNATURE_HEADER = "Claimflow-Signature"
EVENT_ID_HEADER = "Claimflow-Event-Id"

Secret = Annotated[str, StringConstraints(min_length=16, max_length=200)]


#: The `url` of an e-mail subscription is `mailto:<address>`; that of the engine's own mail to each claim's
#: assignee (on assignment, escalation, reassignment) is this.
MAILTO = "mailto:"
ASSIGNEE_MAIL = "assignee:"
#: The organization of the engine's own subscriptions: every organization's claims.
EVERY_ORGANIZATION = "*"
#: What an e-mail subscription gets unless it names statuses: decisions and requests for information.
DECISIONS = [
    ClaimStatus.APPROVED,
    ClaimStatus.PARTIALLY_APPROVED,
    ClaimStatus.DENIED,
    ClaimStatus.INFO_REQUESTED,
    ClaimStatus.PAID,
]


class Channel(StrEnum):
    WEBHOOK = "webhook"
    EMAIL = "email"
    ASSIGNEE_EMAIL = "assignee_email"


class NewSubscription(BaseModel):
    """What a subscriber asks for: a webhook `url` with its signing `secret`, or an `email` address; which statuses
    (a webhook: none means every status change; e-mail: none means decisions and requests for information)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    url: AnyHttpUrl | None = None
    email: EmailStr | None = None
    events: Annotated[list[ClaimStatus], Field(max_length=len(ClaimStatus))] = []
    secret: Secret | None = Field(
        default=None, description="A webhook's: at least 16 characters; every delivery is signed with it (HMAC-SHA256)."
    )

    @model_validator(mode="after")
    def _one_channel(self) -> NewSubscription:
        if (self.url is None) == (self.email is None):
            raise ValueError("give either url (a webhook) or email, not both")
        if self.url is not None and self.secret is None:
            raise ValueError("secret: a webhook needs a secret of at least 16 characters to sign its deliveries")
        if self.email is not None and self.secret is not None:
            raise ValueError("secret: e-mail is not signed; leave the secret out")
        return self

    @property
    def target(self) -> str:
        """Where deliveries go, as stored: the webhook's URL or `mailto:<address>`."""
        return str(self.url) if self.url is not None else f"{MAILTO}{self.email}"

    @property
    def statuses(self) -> list[ClaimStatus]:
        return self.events or (DECISIONS if self.email is not None else [])


class Subscription(BaseModel):
    model_config = ConfigDict(frozen=True)

    subscription_id: str
    org_id: str
    url: str
    events: list[ClaimStatus]
    active: bool

    @property
    def channel(self) -> Channel:
        if self.url.startswith(MAILTO):
            return Channel.EMAIL
        return Channel.ASSIGNEE_EMAIL if self.url == ASSIGNEE_MAIL else Channel.WEBHOOK

    @property
    def email(self) -> str | None:
        return self.url.removeprefix(MAILTO) if self.channel is Channel.EMAIL else None


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

    def mail(self, public_url: str) -> tuple[str, str]:
        """The subject and text of an e-mail about this event: ids, status, amounts and a link, no patient data."""
        subject = f"Claim {self.claim_id[:8]} is {self.status.value.replace('_', ' ')}"
        text = (
            f"Claim {self.claim_id} ({self.payer_id}, billed {self.total_charge:.2f}) is now {self.status.value}:\n"
            f"{self.reason}\n\n{public_url.rstrip('/')}/v1/claims/{self.claim_id}\n"
        )
        return subject, text
