"""Payment: the one payment a claim receives."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from db.base import Base, CreatedAtMixin


class Payment(CreatedAtMixin, Base):
    """A payment for a claim; a claim is paid at most once."""

    __tablename__ = "payment"

    payment_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    claim_id: Mapped[str] = mapped_column(String(32), ForeignKey("claim.claim_id"), unique=True)
    amount: Mapped[Decimal]
    paid_at: Mapped[datetime]
