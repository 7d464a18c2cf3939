"""WebhookDelivery: the delivery of one claim event (a status change) to one subscription, as its last attempt left it."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, ForeignKeyConstraint, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from db.base import Base, TimestampMixin


class WebhookDelivery(TimestampMixin, Base):
    """`status`: delivering (attempts failed so far, still retried), delivered, or gone (the subscription ended)."""

    __tablename__ = "webhook_delivery"
    __table_args__ = (
        ForeignKeyConstraint(["claim_id", "seq"], ["claim_status_history.claim_id", "claim_status_history.seq"]),
    )

    subscription_id: Mapped[str] = mapped_column(
        String(32), ForeignKey("subscription.subscription_id"), primary_key=True
    )
    claim_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, primary_key=True)
    status: Mapped[str] = mapped_column(String(16))
    attempts: Mapped[int] = mapped_column(Integer)
    response_status: Mapped[int | None] = mapped_column(Integer)
    last_error: Mapped[str | None] = mapped_column(String(200))
    delivered_at: Mapped[datetime | None]
