"""ClaimTestRelation: the service lines (tests) and prices of one claim version."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlalchemy import ForeignKeyConstraint, Index, Integer, String
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from db.base import Base, CreatedAtMixin


class ClaimTestRelation(CreatedAtMixin, Base):
    """One billed line of a snapshotted claim; `line_number` is 1-based, in claim order."""

    __tablename__ = "claim_test_relation"

    claim_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    version: Mapped[int] = mapped_column(Integer, primary_key=True)
    line_number: Mapped[int] = mapped_column(Integer, primary_key=True)
    procedure_code: Mapped[str] = mapped_column(String(30))
    modifiers: Mapped[list[str]] = mapped_column(JSONB)
    charge: Mapped[Decimal]
    units: Mapped[int] = mapped_column(Integer)
    service_date: Mapped[date]
    place_of_service: Mapped[str] = mapped_column(String(2))
    diagnosis_pointers: Mapped[list[int]] = mapped_column(JSONB)
    line_control_number: Mapped[str] = mapped_column(String(30))

    __table_args__ = (
        ForeignKeyConstraint(["claim_id", "version"], ["insurance_claim.claim_id", "insurance_claim.version"]),
        Index("ix_claim_test_relation_procedure_code_service_date", "procedure_code", "service_date"),
    )
