"""Adjuster: who reviews claims, for which payers, up to which amount, in which team."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import Boolean, String
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from db.base import Base, TimestampMixin


class Adjuster(TimestampMixin, Base):
    """An adjuster; empty `payer_ids` means every payer. A supervisor sees the claims of its `team` (None: no team)."""

    __tablename__ = "adjuster"

    adjuster_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    payer_ids: Mapped[list[str]] = mapped_column(JSONB)
    authority_limit: Mapped[Decimal]
    supervisor: Mapped[bool] = mapped_column(Boolean, default=False)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    team: Mapped[str | None] = mapped_column(String(64), index=True)
