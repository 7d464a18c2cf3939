"""MceEdit: a diagnosis code on one Medicare Code Editor list (age, sex, manifestation) for a span of dates."""

from __future__ import annotations

from datetime import date

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from db.base import Base


class MceEdit(Base):
    """`code` (ICD-10-CM, canonical spelling) is on list `kind` from `effective_date` to `termination_date`."""

    __tablename__ = "mce_edit"

    code: Mapped[str] = mapped_column(String(8), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16), primary_key=True)
    effective_date: Mapped[date] = mapped_column(primary_key=True)
    termination_date: Mapped[date | None]
