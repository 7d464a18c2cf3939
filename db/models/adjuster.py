"""Adjuster: who reviews claims, for which payers, claim kinds and organizations, up to which amount, how many."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import Boolean, CheckConstraint, Integer, String, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from db.base import Base, TimestampMixin


class Adjuster(TimestampMixin, Base):
    """An adjuster; an empty skill list (`payer_ids`, `claim_kinds`, `org_ids`) means every one. `active` false is
    inactive; `away` takes no new claims. A supervisor sees the claims of its `team` (None: no team)."""

    __tablename__ = "adjuster"
    __table_args__ = (CheckConstraint("capacity >= 1", name="capacity"),)

    adjuster_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    payer_ids: Mapped[list[str]] = mapped_column(JSONB)
    claim_kinds: Mapped[list[str]] = mapped_column(JSONB, server_default=text("'[]'::jsonb"))
    org_ids: Mapped[list[str]] = mapped_column(JSONB, server_default=text("'[]'::jsonb"))
    authority_limit: Mapped[Decimal]
    capacity: Mapped[int] = mapped_column(Integer, server_default=text("25"))
    supervisor: Mapped[bool] = mapped_column(Boolean, default=False)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    away: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    team: Mapped[str | None] = mapped_column(String(64), index=True)
    #: Where the adjuster's assignments and escalations are mailed (None: not mailed).
    email: Mapped[str | None] = mapped_column(String(254))
