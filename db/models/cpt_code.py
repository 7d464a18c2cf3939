"""CPTCode: the procedure codes (CPT/HCPCS) the engine knows, with their validity window."""

from __future__ import annotations

from datetime import date

from sqlalchemy import String, Text
from sqlalchemy.orm import Mapped, mapped_column

from db.base import Base, TimestampMixin


class CPTCode(TimestampMixin, Base):
    """A CPT or HCPCS Level II procedure code."""

    __tablename__ = "cpt_code"

    code: Mapped[str] = mapped_column(String(5), primary_key=True)
    description: Mapped[str] = mapped_column(Text)  # CMS's long descriptors run past 255 characters
    effective_date: Mapped[date]
    termination_date: Mapped[date | None]
