"""Subscriptions and their delivery log."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert

from db.base import utcnow
from db.models import Subscription as SubscriptionRow
from db.models import WebhookDelivery
from db.records import Record
from db.repositories.base import Repository
from domain.status import ClaimStatus
from domain.subscriptions import Subscription


class DeliveryRecord(Record):
    """The delivery of one event to one subscription, as its last attempt left it."""

    claim_id: str
    seq: int
    status: str
    attempts: int
    response_status: int | None
    last_error: str | None
    delivered_at: datetime | None
    updated_at: datetime


def _subscription(row: SubscriptionRow) -> Subscription:
    return Subscription(
        subscription_id=row.subscription_id,
        org_id=row.org_id,
        url=row.url,
        events=[ClaimStatus(status) for status in row.events],
        active=row.active,
    )


class SubscriptionRepository(Repository):
    """Flushes, never commits: the caller's unit of work does."""

    async def add(self, subscription: Subscription, *, secret: str, created_by: str, reactivate: bool = False) -> None:
        """Insert it, active; `reactivate`: one of that id already there is made active again instead."""
        now = utcnow()
        statement = insert(SubscriptionRow).values(
            subscription_id=subscription.subscription_id,
            org_id=subscription.org_id,
            url=subscription.url,
            events=[status.value for status in subscription.events],
            secret=secret,
            active=True,
            created_by=created_by,
            created_at=now,
            updated_at=now,
        )
        if reactivate:
            statement = statement.on_conflict_do_update(
                index_elements=["subscription_id"], set_={"active": True, "updated_at": now}
            )
        await self.session.execute(statement)

    async def get(self, subscription_id: str, *, org_id: str | None = None) -> Subscription | None:
        """The subscription (of that organization, when given)."""
        row = await self.session.get(SubscriptionRow, subscription_id, populate_existing=True)
        if row is None or (org_id is not None and row.org_id != org_id):
            return None
        return _subscription(row)

    async def with_secret(self, subscription_id: str) -> tuple[Subscription, str] | None:
        """The subscription and its signing secret (for a delivery), in one read."""
        row = await self.session.get(SubscriptionRow, subscription_id, populate_existing=True)
        return None if row is None else (_subscription(row), row.secret)

    async def for_org(self, org_id: str) -> list[Subscription]:
        rows = await self.session.scalars(
            select(SubscriptionRow)
            .where(SubscriptionRow.org_id == org_id, SubscriptionRow.active.is_(True))
            .order_by(SubscriptionRow.created_at, SubscriptionRow.subscription_id)
        )
        return [_subscription(row) for row in rows]

    async def deactivate(self, subscription_id: str) -> None:
        await self.session.execute(
            update(SubscriptionRow)
            .where(SubscriptionRow.subscription_id == subscription_id)
            .values(active=False, updated_at=utcnow())
        )

    async def record_attempt(
        self,
        subscription_id: str,
        claim_id: str,
        seq: int,
        *,
        delivered: bool,
        response_status: int | None,
        error: str | None,
    ) -> None:
        """One more attempt at delivering the event: the log keeps the count and the last attempt's outcome."""
        now = utcnow()
        values = {
            "status": "delivered" if delivered else "delivering",
            "response_status": response_status,
            "last_error": error,
            "delivered_at": now if delivered else None,
            "updated_at": now,
        }
        statement = insert(WebhookDelivery).values(
            subscription_id=subscription_id, claim_id=claim_id, seq=seq, attempts=1, created_at=now, **values
        )
        await self.session.execute(
            statement.on_conflict_do_update(
                index_elements=["subscription_id", "claim_id", "seq"],
                set_={"attempts": WebhookDelivery.attempts + 1, **values},
            )
        )

    async def deliveries(self, subscription_id: str, *, limit: int) -> list[DeliveryRecord]:
        """The latest deliveries, newest first."""
        rows = await self.session.scalars(
            select(WebhookDelivery)
            .where(WebhookDelivery.subscription_id == subscription_id)
            .order_by(WebhookDelivery.updated_at.desc(), WebhookDelivery.claim_id, WebhookDelivery.seq.desc())
            .limit(limit)
        )
        return [DeliveryRecord.model_validate(row, from_attributes=True) for row in rows]
