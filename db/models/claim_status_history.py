"""ClaimStatusHistory: every status a claim has had, numbered by the workflow."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, ForeignKeyConstraint, Index, Integer, String, text
from sqlalchemy.orm import Mapped, mapped_column

from db.base import Base, CreatedAtMixin


class ClaimStatusHistory(CreatedAtMixin, Base):
    """One status change; `seq` orders them and makes recording idempotent.

    `note_id` is the note the change was made with (a decision, information, cancellation), always one of
    this claim's notes: the foreign key is (note_id, claim_id). A note a status row refers to cannot be deleted.
    """

    __tablename__ = "claim_status_history"

    claim_id: Mapped[str] = mapped_column(String(32), ForeignKey("claim.claim_id"), primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, primary_key=True)
    status: Mapped[str] = mapped_column(String(32))
    reason: Mapped[str] = mapped_column(String(500))
    at: Mapped[datetime]
    actor: Mapped[str] = mapped_column(String(64))
    note_id: Mapped[str | None] = mapped_column(String(32))
    #: The event feed's position: the id of the transaction that wrote the row (server default). The feed reads rows
    #: of transactions below the oldest one still running, in (txid, claim_id, seq) order, so none is skipped.
    txid: Mapped[int] = mapped_column(BigInteger, server_default=text("(pg_current_xact_id()::text)::bigint"))

    __table_args__ = (
        ForeignKeyConstraint(["note_id", "claim_id"], ["claim_note.note_id", "claim_note.claim_id"]),
        # discarding a note asks whether a status row refers to it (and so does the foreign key on DELETE)
        Index("ix_claim_status_history_note_id", "note_id", postgresql_where="note_id IS NOT NULL"),
        Index("ix_claim_status_history_feed", "txid", "claim_id", "seq"),
    )
