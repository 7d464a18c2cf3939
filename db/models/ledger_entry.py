"""ClaimLedgerEntry: one posting of the remittance ledger (a claim line's, or the claim's, amounts from one answer)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, Identity, Integer, String, UniqueConstraint
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from db.base import Base, CreatedAtMixin
from domain.ledger import LedgerKind


class ClaimLedgerEntry(CreatedAtMixin, Base):
    """Append-only: the database refuses UPDATE, DELETE and TRUNCATE (triggers); a reversal or a correction is a new
    row. `posting_key` (unique per claim) makes posting idempotent: the same answer posted twice adds nothing."""

    __tablename__ = "claim_ledger_entry"

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    claim_id: Mapped[str] = mapped_column(String(32), ForeignKey("claim.claim_id"))
    posting_key: Mapped[str] = mapped_column(String(300))
    remittance_id: Mapped[str] = mapped_column(String(200))
    source: Mapped[str] = mapped_column(String(16))  # domain.ledger.LedgerSource
    kind: Mapped[str] = mapped_column(String(16))  # domain.ledger.LedgerKind
    payer_claim_id: Mapped[str] = mapped_column(String(64))
    line_number: Mapped[int | None] = mapped_column(Integer)  # None: a claim-level entry
    billed: Mapped[Decimal]
    allowed: Mapped[Decimal]
    paid: Mapped[Decimal]
    patient_responsibility: Mapped[Decimal]
    adjustments: Mapped[list[dict[str, Any]]] = mapped_column(JSONB)
    remark_codes: Mapped[list[str]] = mapped_column(JSONB)
    reverses: Mapped[str | None] = mapped_column(String(200))
    at: Mapped[datetime]

    __table_args__ = (
        UniqueConstraint("claim_id", "posting_key"),
        CheckConstraint(f"kind IN ({', '.join(repr(kind.value) for kind in LedgerKind)})", name="kind"),
    )
