"""AuditChainHead: the audit log's hash chain head — its last id and hash — in one row appends lock."""

from __future__ import annotations

from sqlalchemy import BigInteger, CheckConstraint, SmallInteger, String
from sqlalchemy.orm import Mapped, mapped_column

from db.base import Base


class AuditChainHead(Base):
    """The one row (id 1) the audit trigger locks FOR UPDATE to serialise appends, and moves with each row it
    writes. Only the table's owner (the trigger runs as it) writes here; the application's role may read it, so
    verification sees rows deleted from the chain's end."""

    __tablename__ = "audit_chain_head"

    id: Mapped[int] = mapped_column(SmallInteger, primary_key=True, autoincrement=False)
    last_id: Mapped[int] = mapped_column(BigInteger)
    last_hash: Mapped[str] = mapped_column(String(64))

    __table_args__ = (CheckConstraint("id = 1", name="one_row"),)
