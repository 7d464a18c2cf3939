"""ClaimNote: the free text of a decision, an information answer or a cancellation, kept out of workflow history."""

from __future__ import annotations

from typing import get_args

from sqlalchemy import CheckConstraint, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from db.base import Base, CreatedAtMixin
from db.records import NoteKind

#: The longest note the database keeps, in characters (the CHECK constraint ck_claim_note_body_length).
NOTE_BODY_MAX_CHARS = 2000
#: The kinds the database accepts (the CHECK constraint ck_claim_note_kind).
NOTE_KINDS: tuple[str, ...] = get_args(NoteKind)


class ClaimNote(CreatedAtMixin, Base):
    """A note written once, before the workflow update that carries its id, and never changed (a trigger
    refuses UPDATE). A status-history row refers to it by (note_id, claim_id), so a claim's history shows only
    its own notes; a note no status row refers to (its update was refused) may be deleted.

    `body` may hold protected health information: it never enters workflow history, logs or the audit log.
    """

    __tablename__ = "claim_note"

    note_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    claim_id: Mapped[str] = mapped_column(String(32), ForeignKey("claim.claim_id"))
    kind: Mapped[str] = mapped_column(String(16))
    body: Mapped[str] = mapped_column(Text)
    author: Mapped[str] = mapped_column(String(64))

    __table_args__ = (
        # the target of the status history's (note_id, claim_id) foreign key; its index also finds a claim's notes
        UniqueConstraint("claim_id", "note_id"),
        CheckConstraint(f"char_length(body) BETWEEN 1 AND {NOTE_BODY_MAX_CHARS}", name="body_length"),
        CheckConstraint(f"kind IN ({', '.join(repr(kind) for kind in NOTE_KINDS)})", name="kind"),
    )
