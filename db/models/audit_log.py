"""AuditLog: the append-only record of who did what to which claim (no patient data)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, FetchedValue, Index, String
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from db.base import Base, CreatedAtMixin


class AuditLog(CreatedAtMixin, Base):
    """One audited action. The database refuses UPDATE, DELETE and TRUNCATE on this table (triggers).

    Rows form a hash chain that the database builds on INSERT (trigger audit_log_chained): `id` is the previous
    row's plus one, `prev_hash` the previous row's `row_hash`, and `row_hash` the SHA-256 of the row's canonical
    encoding (db/audit_chain.py). Leave all three out of an INSERT: the trigger sets them.

    `details` must never hold protected health information: ids, statuses, codes and
    amounts only, never names, dates of birth, member ids or addresses.
    `event_key` makes appending idempotent (a retried activity writes one row).
    """

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False, server_default=FetchedValue())
    event_key: Mapped[str] = mapped_column(String(200), unique=True)
    claim_id: Mapped[str | None] = mapped_column(String(32))
    actor: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime]
    details: Mapped[dict[str, Any]] = mapped_column(JSONB)
    prev_hash: Mapped[str] = mapped_column(String(64), server_default=FetchedValue())
    row_hash: Mapped[str] = mapped_column(String(64), server_default=FetchedValue())

    __table_args__ = (Index("ix_audit_log_claim_id_id", "claim_id", "id"),)
