"""RiskRuleRow: one rule of the risk screen (kind, parameters, weight, enabled), edited by admins."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Boolean, CheckConstraint, Integer, String
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from db.base import Base, TimestampMixin


class RiskRuleRow(TimestampMixin, Base):
    """A risk rule as stored: its parameters are checked against its kind (domain/risk.py) before they are written."""

    __tablename__ = "risk_rule"

    rule_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    params: Mapped[dict[str, Any]] = mapped_column(JSONB)
    weight: Mapped[int] = mapped_column(Integer)
    enabled: Mapped[bool] = mapped_column(Boolean)
    description: Mapped[str] = mapped_column(String(200))

    __table_args__ = (
        CheckConstraint("weight BETWEEN 0 AND 100", name="weight"),
        CheckConstraint(
            "kind IN ('exact_duplicate', 'near_duplicate', 'frequency_limit', 'charge_outlier', 'unbundling')",
            name="kind",
        ),
    )
