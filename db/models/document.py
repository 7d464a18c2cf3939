"""ClaimDocument: a supporting document of a claim (its type, name and current version); the bytes live elsewhere."""

from __future__ import annotations

from sqlalchemy import CheckConstraint, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from db.base import Base, TimestampMixin
from domain.documents import NAME_MAX_CHARS, DocumentType

#: The types the database accepts (the CHECK constraint ck_claim_document_type).
DOCUMENT_TYPES: tuple[str, ...] = tuple(kind.value for kind in DocumentType)


class ClaimDocument(TimestampMixin, Base):
    """One document of a claim. `current_version` is its latest version's number (versions are 1, 2, … and every
    one is kept in claim_document_version); `updated_at` is when that version was uploaded, so searches page on
    (updated_at, document_id). `name` may hold PHI: it never enters logs or the audit log."""

    __tablename__ = "claim_document"

    document_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    claim_id: Mapped[str] = mapped_column(String(32), ForeignKey("claim.claim_id"))
    org_id: Mapped[str] = mapped_column(String(64))
    type: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(NAME_MAX_CHARS))
    current_version: Mapped[int] = mapped_column(Integer)

    __table_args__ = (
        Index("ix_claim_document_claim_id_updated_at_document_id", "claim_id", "updated_at", "document_id"),
        Index("ix_claim_document_updated_at_document_id", "updated_at", "document_id"),
        CheckConstraint(f"type IN ({', '.join(repr(kind) for kind in DOCUMENT_TYPES)})", name="type"),
        CheckConstraint("current_version >= 1", name="current_version"),
    )
