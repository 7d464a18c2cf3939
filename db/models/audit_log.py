"""AuditLog: the append-only record of who did what to which claim (no patient data)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Index, String
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from db.base import Base, CreatedAtMixin


class AuditLog(CreatedAtMixin, Base):
    """One audited action. The database refuses UPDATE and DELETE on this table (triggers).

    `details` must never hold protected health information: ids, statuses, codes and
    amounts only, never names, dates of birth, member ids or addresses.
    `event_key` makes appending idempotent (a retried activity writes one row).
    """

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    event_key: Mapped[str] = mapped_column(String(200), unique=True)
    claim_id: Mapped[str | None] = mapped_column(String(32))
    actor: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime]
    details: Mapped[dict[str, Any]] = mapped_column(JSONB)

    __table_args__ = (Index("ix_audit_log_claim_id_id", "claim_id", "id"),)
