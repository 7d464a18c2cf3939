"""BillClaimRelation: which bills one claim version covers."""

from __future__ import annotations

from sqlalchemy import ForeignKeyConstraint, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from db.base import Base, CreatedAtMixin


class BillClaimRelation(CreatedAtMixin, Base):
    """A bill covered by a snapshotted claim."""

    __tablename__ = "bill_claim_relation"

    claim_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    version: Mapped[int] = mapped_column(Integer, primary_key=True)
    bill_id: Mapped[str] = mapped_column(String(30), primary_key=True)

    __table_args__ = (
        ForeignKeyConstraint(["claim_id", "version"], ["insurance_claim.claim_id", "insurance_claim.version"]),
        Index("ix_bill_claim_relation_bill_id", "bill_id"),
    )
