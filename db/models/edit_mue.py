"""MueEdit: one medically unlikely edit (practitioner services) of the quarter that began on `effective_date`."""

from __future__ import annotations

from datetime import date

from sqlalchemy import SmallInteger, String
from sqlalchemy.orm import Mapped, mapped_column

from db.base import Base


class MueEdit(Base):
    """At most `units` of the code per line (MAI 1) or per day (MAI 2, 3), from its quarter's first day."""

    __tablename__ = "mue_edit"

    code: Mapped[str] = mapped_column(String(5), primary_key=True)
    effective_date: Mapped[date] = mapped_column(primary_key=True)
    units: Mapped[int]
    mai: Mapped[int] = mapped_column(SmallInteger)
    rationale: Mapped[str] = mapped_column(String(100))
