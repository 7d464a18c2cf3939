"""InsuranceClaim: the immutable claim-level snapshot of one claim version."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import ForeignKey, Index, Integer, String
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from db.base import Base, CreatedAtMixin


class InsuranceClaim(CreatedAtMixin, Base):
    """What was claimed, copied at snapshot time so later edits elsewhere never change it."""

    __tablename__ = "insurance_claim"

    claim_id: Mapped[str] = mapped_column(String(32), ForeignKey("claim.claim_id"), primary_key=True)
    version: Mapped[int] = mapped_column(Integer, primary_key=True)
    patient_control_number: Mapped[str] = mapped_column(String(38))
    patient_first_name: Mapped[str] = mapped_column(String(60))
    patient_last_name: Mapped[str] = mapped_column(String(60))
    patient_date_of_birth: Mapped[date]
    patient_sex: Mapped[str] = mapped_column(String(1))
    patient_member_id: Mapped[str] = mapped_column(String(30))
    payer_id: Mapped[str] = mapped_column(String(30))
    member_id: Mapped[str] = mapped_column(String(30))
    group_number: Mapped[str | None] = mapped_column(String(30))
    plan: Mapped[str | None] = mapped_column(String(60))
    diagnosis_codes: Mapped[list[str]] = mapped_column(JSONB)
    total_charge: Mapped[Decimal]
    frequency_code: Mapped[str] = mapped_column(String(1))
    original_payer_claim_id: Mapped[str | None] = mapped_column(String(30))
    taken_at: Mapped[datetime]

    __table_args__ = (
        Index("ix_insurance_claim_payer_id_member_id", "payer_id", "member_id"),
        Index("ix_insurance_claim_payer_id_patient_member_id", "payer_id", "patient_member_id"),  # the risk screen
    )
