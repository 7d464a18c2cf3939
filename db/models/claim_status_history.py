"""ClaimStatusHistory: every status a claim has had, numbered by the workflow."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from db.base import Base, CreatedAtMixin


class ClaimStatusHistory(CreatedAtMixin, Base):
    """One status change; `seq` orders them and makes recording idempotent."""

    __tablename__ = "claim_status_history"

    claim_id: Mapped[str] = mapped_column(String(32), ForeignKey("claim.claim_id"), primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, primary_key=True)
    status: Mapped[str] = mapped_column(String(32))
    reason: Mapped[str] = mapped_column(String(500))
    at: Mapped[datetime]
    actor: Mapped[str] = mapped_column(String(64))
