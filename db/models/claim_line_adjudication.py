"""ClaimLineAdjudication: what the payer or an adjuster decided for each service line."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import ForeignKey, Integer, String
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from db.base import Base, TimestampMixin


class ClaimLineAdjudication(TimestampMixin, Base):
    """The latest adjudication of one line (835-style amounts, CAS adjustments, RARC remarks)."""

    __tablename__ = "claim_line_adjudication"

    claim_id: Mapped[str] = mapped_column(String(32), ForeignKey("claim.claim_id"), primary_key=True)
    line_number: Mapped[int] = mapped_column(Integer, primary_key=True)
    billed: Mapped[Decimal]
    allowed: Mapped[Decimal]
    paid: Mapped[Decimal]
    adjustments: Mapped[list[dict[str, Any]]] = mapped_column(JSONB)
    remark_codes: Mapped[list[str]] = mapped_column(JSONB)
    source: Mapped[str] = mapped_column(String(16))  # "processor" | "adjuster"
    adjudicated_at: Mapped[datetime]
