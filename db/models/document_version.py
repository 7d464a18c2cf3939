"""ClaimDocumentVersion: one uploaded version of a claim's document, kept for good; its bytes are addressed by SHA-256."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from db.base import Base


class ClaimDocumentVersion(Base):
    """A version is written once and never changed or deleted (the application's role may only SELECT and INSERT):
    old versions stay readable. `sha256` is the content address in the document store; versions with the same
    bytes share one stored object."""

    __tablename__ = "claim_document_version"

    document_id: Mapped[str] = mapped_column(String(32), ForeignKey("claim_document.document_id"), primary_key=True)
    version: Mapped[int] = mapped_column(Integer, primary_key=True)
    sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(BigInteger)
    content_type: Mapped[str] = mapped_column(String(100))
    uploaded_by: Mapped[str] = mapped_column(String(64))
    uploaded_at: Mapped[datetime]

    __table_args__ = (
        Index("ix_claim_document_version_sha256", "sha256"),
        CheckConstraint("version >= 1", name="version"),
        CheckConstraint("size > 0", name="size"),
        CheckConstraint("sha256 ~ '^[0-9a-f]{64}$'", name="sha256"),
    )
