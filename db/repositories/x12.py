"""X12Repository: the control-number sequence, and each claim's interchange, written once and read back."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from db.models import Patient, Payer
from db.models.x12_interchange import X12_CONTROL_NUMBER, X12Interchange
from db.records import PatientRow, Record
from db.repositories.base import Repository
from db.repositories.reference import patient_row


class InterchangeRecord(Record):
    """An interchange as stored: its control numbers and its bytes (`body` holds PHI: never log it)."""

    claim_id: str
    transaction_set: str
    interchange_control_number: int
    group_control_number: int
    transaction_control_number: int
    body: str
    created_at: datetime


class X12Repository(Repository):
    """Reads and writes x12_interchange; control numbers come from one PostgreSQL sequence."""

    async def next_control_number(self) -> int:
        """A number no other call ever gets (the sequence never cycles; a rolled-back call leaves a gap)."""
        number: int = (await self.session.execute(select(X12_CONTROL_NUMBER.next_value()))).scalar_one()
        return number

    async def get(self, claim_id: str, transaction_set: str) -> InterchangeRecord | None:
        row = (
            (
                await self.session.execute(
                    select(X12Interchange).where(
                        X12Interchange.claim_id == claim_id, X12Interchange.transaction_set == transaction_set
                    )
                )
            )
            .scalars()
            .one_or_none()
        )
        return None if row is None else _record(row)

    async def add_once(self, interchange: InterchangeRecord) -> InterchangeRecord:
        """Store the interchange unless the claim has one of this transaction set already; return the stored one
        (a concurrent writer's, when it was first)."""
        written = await self.session.execute(
            self._insert(X12Interchange)
            .values(**interchange.model_dump())
            .on_conflict_do_nothing(index_elements=[X12Interchange.claim_id, X12Interchange.transaction_set])
            .returning(X12Interchange.claim_id)
        )
        if written.scalar_one_or_none() is not None:
            return interchange
        stored = await self.get(interchange.claim_id, interchange.transaction_set)
        assert stored is not None  # the conflicting row is committed, and rows are never deleted
        return stored

    async def payer_name(self, payer_id: str) -> str | None:
        """The payer's name (2010BB NM103), from the payer table."""
        name: str | None = await self.session.scalar(select(Payer.name).where(Payer.payer_id == payer_id))
        return name

    async def members(self, payer_id: str, member_id: str) -> list[PatientRow]:
        """The reference people insured under this payer's member id (a subscriber and their dependents)."""
        rows = await self.session.scalars(
            select(Patient)
            .where(Patient.payer_id == payer_id, Patient.member_id == member_id)
            .order_by(Patient.patient_id)
        )
        return [patient_row(row) for row in rows]


def _record(row: X12Interchange) -> InterchangeRecord:
    return InterchangeRecord(
        claim_id=row.claim_id,
        transaction_set=row.transaction_set,
        interchange_control_number=row.interchange_control_number,
        group_control_number=row.group_control_number,
        transaction_control_number=row.transaction_control_number,
        body=row.body,
        created_at=row.created_at,
    )
