"""ICD10Code: the diagnosis codes the engine knows, with their validity window."""

from __future__ import annotations

from datetime import date

from sqlalchemy import Boolean, String
from sqlalchemy.orm import Mapped, mapped_column

from db.base import Base, TimestampMixin


class ICD10Code(TimestampMixin, Base):
    """An ICD-10-CM code; only billable (leaf) codes may be claimed."""

    __tablename__ = "icd10_code"

    code: Mapped[str] = mapped_column(String(8), primary_key=True)
    description: Mapped[str] = mapped_column(String(255))
    effective_date: Mapped[date]
    termination_date: Mapped[date | None]
    billable: Mapped[bool] = mapped_column(Boolean, default=True)
