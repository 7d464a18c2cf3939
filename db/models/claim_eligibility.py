"""ClaimEligibility: the payer's eligibility answer (271) checked before a claim's submission, kept with the claim."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, DateTime, ForeignKey, String
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from db.base import Base


class ClaimEligibility(Base):
    """The structured answer of the last check (coverage, plan, amounts, mismatched field names; never the payer's
    record of the member). A later check of the same claim (a ready claim submitted later) replaces it."""

    __tablename__ = "claim_eligibility"

    claim_id: Mapped[str] = mapped_column(String(32), ForeignKey("claim.claim_id"), primary_key=True)
    checked_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    active: Mapped[bool] = mapped_column(Boolean)
    #: domain.eligibility.EligibilityResult as JSON.
    answer: Mapped[dict[str, Any]] = mapped_column(JSONB)
