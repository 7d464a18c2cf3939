"""Patient: reference patients (fictional in the seed data)."""

from __future__ import annotations

from datetime import date

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from db.base import Base, TimestampMixin


class Patient(TimestampMixin, Base):
    """A patient with the coverage they are known by."""

    __tablename__ = "patient"

    patient_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    first_name: Mapped[str] = mapped_column(String(60))
    last_name: Mapped[str] = mapped_column(String(60))
    date_of_birth: Mapped[date]
    sex: Mapped[str] = mapped_column(String(1))
    payer_id: Mapped[str] = mapped_column(String(30))
    member_id: Mapped[str] = mapped_column(String(30))
