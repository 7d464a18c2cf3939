"""Integration: an organization's connection to a claims processor (processor, adapter, envelope ids, enabled)."""

from __future__ import annotations

from sqlalchemy import Boolean, CheckConstraint, Index, String, text
from sqlalchemy.orm import Mapped, mapped_column

from db.base import Base, TimestampMixin


class IntegrationRow(TimestampMixin, Base):
    """One integration of an organization; `credentials_ref` names where its secret is kept, never the secret."""

    __tablename__ = "integration"
    __table_args__ = (
        CheckConstraint("adapter IN ('json', 'x12')", name="adapter"),
        Index(
            "uq_integration_default_per_org",
            "org_id",
            unique=True,
            postgresql_where=text("is_default"),
        ),
    )

    org_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    integration_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    processor: Mapped[str] = mapped_column(String(60))
    adapter: Mapped[str] = mapped_column(String(8))  # 'json' | 'x12' (checked in the table)
    credentials_ref: Mapped[str | None] = mapped_column(String(200), nullable=True)
    submitter_id: Mapped[str | None] = mapped_column(String(15), nullable=True)
    receiver_id: Mapped[str | None] = mapped_column(String(15), nullable=True)
    enabled: Mapped[bool] = mapped_column(Boolean, default=False)
    check_eligibility: Mapped[bool] = mapped_column(Boolean, default=False)
    is_default: Mapped[bool] = mapped_column(Boolean, default=False)
