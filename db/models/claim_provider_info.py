"""ClaimProviderInfo: the providers of one claim version, copied (never referenced)."""

from __future__ import annotations

from sqlalchemy import ForeignKeyConstraint, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from db.base import Base, CreatedAtMixin


class ClaimProviderInfo(CreatedAtMixin, Base):
    """One provider role (billing, rendering, referring) as it stood when the claim was snapshotted."""

    __tablename__ = "claim_provider_info"

    claim_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    version: Mapped[int] = mapped_column(Integer, primary_key=True)
    role: Mapped[str] = mapped_column(String(16), primary_key=True)
    npi: Mapped[str] = mapped_column(String(30))
    name: Mapped[str | None] = mapped_column(String(60))
    tax_id: Mapped[str | None] = mapped_column(String(30))

    __table_args__ = (
        ForeignKeyConstraint(["claim_id", "version"], ["insurance_claim.claim_id", "insurance_claim.version"]),
        Index("ix_claim_provider_info_npi_role", "npi", "role"),
    )
