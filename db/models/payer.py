"""Payer: the insurers (and the sandbox processor) claims are sent to."""

from __future__ import annotations

from sqlalchemy import Boolean, String
from sqlalchemy.orm import Mapped, mapped_column

from db.base import Base, TimestampMixin


class Payer(TimestampMixin, Base):
    """A payer, known by the payer id claims carry."""

    __tablename__ = "payer"

    payer_id: Mapped[str] = mapped_column(String(30), primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
