"""Subscription: an organization's webhook — where its claims' events are posted, which ones, and the signing secret."""

from __future__ import annotations

from sqlalchemy import Boolean, Index, String
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from db.base import Base, TimestampMixin


class Subscription(TimestampMixin, Base):
    """`events` lists the claim statuses posted (empty: every status change). `secret` signs each delivery
    (HMAC-SHA256); it is shown only to the organization that set it, never logged. Deleting deactivates."""

    __tablename__ = "subscription"
    __table_args__ = (Index("ix_subscription_org_id", "org_id"),)

    subscription_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    org_id: Mapped[str] = mapped_column(String(64))
    url: Mapped[str] = mapped_column(String(2000))
    events: Mapped[list[str]] = mapped_column(JSONB)
    secret: Mapped[str] = mapped_column(String(200))
    active: Mapped[bool] = mapped_column(Boolean)
    created_by: Mapped[str] = mapped_column(String(64))
