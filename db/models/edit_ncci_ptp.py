"""NcciPtpEdit: one NCCI procedure-to-procedure pair (practitioner), with its dates and modifier indicator."""

from __future__ import annotations

from datetime import date

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from db.base import Base


class NcciPtpEdit(Base):
    """Column 2 is not paid beside column 1 on one day, from `effective_date` until `deletion_date` (exclusive)."""

    __tablename__ = "ncci_ptp_edit"

    column1: Mapped[str] = mapped_column(String(5), primary_key=True)
    column2: Mapped[str] = mapped_column(String(5), primary_key=True)
    effective_date: Mapped[date] = mapped_column(primary_key=True)
    deletion_date: Mapped[date | None]
    modifier_indicator: Mapped[str] = mapped_column(String(1))
    rationale: Mapped[str] = mapped_column(String(255))
