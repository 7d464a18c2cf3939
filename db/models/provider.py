"""Provider: reference data per NPI, as last seen on a claim (mutable; snapshots copy it)."""

from __future__ import annotations

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from db.base import Base, TimestampMixin


class Provider(TimestampMixin, Base):
    """A billing, rendering or referring provider."""

    __tablename__ = "provider"

    npi: Mapped[str] = mapped_column(String(30), primary_key=True)
    name: Mapped[str | None] = mapped_column(String(60))
    tax_id: Mapped[str | None] = mapped_column(String(30))
