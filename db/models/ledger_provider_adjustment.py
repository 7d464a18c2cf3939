"""ProviderAdjustmentRow: a provider-level adjustment of a remittance (835 PLB), kept apart from the claims."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlalchemy import BigInteger, Identity, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from db.base import Base, CreatedAtMixin


class ProviderAdjustmentRow(CreatedAtMixin, Base):
    """Append-only like the ledger (UPDATE, DELETE and TRUNCATE refused); one row per remittance and PLB position."""

    __tablename__ = "provider_adjustment"

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    remittance_id: Mapped[str] = mapped_column(String(200))
    position: Mapped[int] = mapped_column(Integer)
    payer_id: Mapped[str] = mapped_column(String(30))
    provider_id: Mapped[str] = mapped_column(String(30))
    fiscal_period_date: Mapped[date | None]
    reason_code: Mapped[str] = mapped_column(String(4))
    reference: Mapped[str] = mapped_column(String(60))
    amount: Mapped[Decimal]

    __table_args__ = (UniqueConstraint("remittance_id", "position"),)
