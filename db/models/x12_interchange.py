"""X12Interchange: the interchange generated for a claim (its 837P), kept so the same bytes are shown and sent."""

from __future__ import annotations

from sqlalchemy import ForeignKey, Integer, Sequence, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from db.base import Base, CreatedAtMixin

#: The interchange control numbers (ISA13, also GS06 and ST02): nine digits, never cycling, so never repeated.
X12_CONTROL_NUMBER = Sequence(
    "x12_control_number", start=1, minvalue=1, maxvalue=999_999_999, cycle=False, metadata=Base.metadata
)


class X12Interchange(CreatedAtMixin, Base):
    """One transaction set generated for a claim, in its envelope, written once and never changed.

    `body` holds protected health information (names, dates of birth, addresses): it never enters logs,
    workflow history or the audit log.
    """

    __tablename__ = "x12_interchange"

    claim_id: Mapped[str] = mapped_column(String(32), ForeignKey("claim.claim_id"), primary_key=True)
    transaction_set: Mapped[str] = mapped_column(String(8), primary_key=True)  # "837P"
    interchange_control_number: Mapped[int] = mapped_column(Integer)
    group_control_number: Mapped[int] = mapped_column(Integer)
    transaction_control_number: Mapped[int] = mapped_column(Integer)
    body: Mapped[str] = mapped_column(Text)

    __table_args__ = (UniqueConstraint("interchange_control_number"),)
