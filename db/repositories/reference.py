"""ReferenceRepository: adjusters, payers, providers, patients and the code tables."""

from __future__ import annotations

from sqlalchemy import select

from db.models import CodeSystemLoad, CPTCode, ICD10Code, Patient, Payer, Provider
from db.records import CodeRow, PatientRow, PayerRow, ProviderRow
from db.repositories.adjusters import AdjusterRepository
from db.repositories.base import Repository
from domain import assignment


class ReferenceRepository(Repository):
    """Reference data the engine looks things up in."""

    async def adjusters(self) -> list[assignment.Adjuster]:
        """Every adjuster, active or not, by id."""
        return await AdjusterRepository(self.session).every()

    async def get_adjuster(self, adjuster_id: str) -> assignment.Adjuster | None:
        return await AdjusterRepository(self.session).get(adjuster_id)

    async def open_load(self) -> dict[str, int]:
        """How many claims each adjuster has open (AdjusterRepository.open_load)."""
        return await AdjusterRepository(self.session).open_load()

    async def payers(self) -> list[PayerRow]:
        rows = await self.session.scalars(select(Payer).order_by(Payer.payer_id))
        return [PayerRow(payer_id=row.payer_id, name=row.name, active=row.active) for row in rows]

    async def get_provider(self, npi: str) -> ProviderRow | None:
        row = await self.session.get(Provider, npi, populate_existing=True)
        return None if row is None else ProviderRow(npi=row.npi, name=row.name, tax_id=row.tax_id)

    async def providers(self) -> list[ProviderRow]:
        rows = await self.session.scalars(select(Provider).order_by(Provider.npi))
        return [ProviderRow(npi=row.npi, name=row.name, tax_id=row.tax_id) for row in rows]

    async def patients(self) -> list[PatientRow]:
        rows = await self.session.scalars(select(Patient).order_by(Patient.patient_id))
        return [patient_row(row) for row in rows]

    async def icd10_entries(self) -> list[CodeRow]:
        """The ICD-10-CM table, by code."""
        rows = await self.session.scalars(select(ICD10Code).order_by(ICD10Code.code))
        return [
            CodeRow(
                code=row.code,
                description=row.description,
                effective_date=row.effective_date,
                termination_date=row.termination_date,
                billable=row.billable,
            )
            for row in rows
        ]

    async def complete_code_systems(self) -> list[str]:
        """The code systems whose complete release has been loaded (`claimflow codes import --full`)."""
        rows = await self.session.scalars(
            select(CodeSystemLoad.system).where(CodeSystemLoad.loaded_in_full.is_(True)).order_by(CodeSystemLoad.system)
        )
        return list(rows)

    async def cpt_entries(self) -> list[CodeRow]:
        """The CPT/HCPCS table, by code (every procedure code is billable)."""
        rows = await self.session.scalars(select(CPTCode).order_by(CPTCode.code))
        return [
            CodeRow(
                code=row.code,
                description=row.description,
                effective_date=row.effective_date,
                termination_date=row.termination_date,
                billable=True,
            )
            for row in rows
        ]


def patient_row(row: Patient) -> PatientRow:
    """A patient reference row as the repositories hand it out."""
    return PatientRow(
        patient_id=row.patient_id,
        first_name=row.first_name,
        last_name=row.last_name,
        date_of_birth=row.date_of_birth,
        sex=row.sex,
        payer_id=row.payer_id,
        member_id=row.member_id,
    )
