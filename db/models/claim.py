"""The claim register: one row per claim, its submitted document and where it is now."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import DateTime, ForeignKey, Index, Integer, String, UniqueConstraint, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from db.base import Base, TimestampMixin


class ClaimRegister(TimestampMixin, Base):
    """A claim as received (the document) plus its current status, assignment and payer id.

    `created_at` is when the claim was received; listings page on (created_at, claim_id).
    """

    __tablename__ = "claim"

    claim_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    org_id: Mapped[str] = mapped_column(String(64))
    idempotency_key: Mapped[str | None] = mapped_column(String(255))
    request_hash: Mapped[str] = mapped_column(String(128))
    patient_control_number: Mapped[str] = mapped_column(String(38))
    payer_id: Mapped[str] = mapped_column(String(30))
    total_charge: Mapped[Decimal]
    status: Mapped[str] = mapped_column(String(32))
    status_seq: Mapped[int] = mapped_column(Integer)
    assigned_adjuster: Mapped[str | None] = mapped_column(String(64))
    #: When the assignee's review is due (the review SLA), while the claim is in review.
    review_due_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    #: The risk screen's score (0-100), when the claim was screened.
    risk_score: Mapped[int | None] = mapped_column(Integer)
    payer_claim_id: Mapped[str | None] = mapped_column(String(64))
    document: Mapped[dict[str, Any]] = mapped_column(JSONB)
    validation_errors: Mapped[list[dict[str, str]]] = mapped_column(JSONB)
    #: The original this claim replaces (frequency 7) or voids (frequency 8); None for an original claim.
    replaces_claim_id: Mapped[str | None] = mapped_column(String(32), ForeignKey("claim.claim_id"))

    __table_args__ = (
        UniqueConstraint("org_id", "idempotency_key"),
        Index("ix_claim_org_id_created_at_claim_id", "org_id", "created_at", "claim_id"),
        Index("ix_claim_created_at_claim_id", "created_at", "claim_id"),
        Index("ix_claim_status_created_at_claim_id", "status", "created_at", "claim_id"),
        Index("ix_claim_payer_id_created_at_claim_id", "payer_id", "created_at", "claim_id"),
        Index("ix_claim_assigned_adjuster_created_at_claim_id", "assigned_adjuster", "created_at", "claim_id"),
        Index(
            "ix_claim_replaces_claim_id",
            "replaces_claim_id",
            postgresql_where=text("replaces_claim_id IS NOT NULL"),
        ),
    )
