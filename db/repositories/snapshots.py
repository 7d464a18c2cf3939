"""The immutable claim snapshot: InsuranceClaim, providers, lines and bills, copied from a Claim."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import and_, func, select

from db.base import utcnow
from db.models import BillClaimRelation, ClaimProviderInfo, ClaimRegister, ClaimTestRelation, InsuranceClaim, Provider
from db.repositories.base import Repository
from domain.claim import Claim
from domain.status import ClaimStatus

#: Register statuses of claims that were never accepted, so cannot be duplicated.
NOT_ACCEPTED: frozenset[ClaimStatus] = frozenset(
    {ClaimStatus.RECEIVED, ClaimStatus.VALIDATING, ClaimStatus.INVALID, ClaimStatus.CANCELLED}
)


def header_row(claim: Claim) -> dict[str, Any]:
    """The snapshot header's columns taken from the claim (InsuranceClaim, less its key and time)."""
    return {
        "patient_control_number": claim.patient_control_number,
        "patient_first_name": claim.patient.first_name,
        "patient_last_name": claim.patient.last_name,
        "patient_date_of_birth": claim.patient.date_of_birth,
        "patient_sex": claim.patient.sex.value,
        "patient_member_id": claim.patient.member_id,
        "payer_id": claim.insurance.payer_id,
        "member_id": claim.insurance.member_id,
        "group_number": claim.insurance.group_number,
        "plan": claim.insurance.plan,
        "diagnosis_codes": list(claim.diagnosis_codes),
        "total_charge": claim.total_charge,
        "frequency_code": claim.frequency_code.value,
        "original_payer_claim_id": claim.original_payer_claim_id,
    }


def provider_rows(claim: Claim) -> list[dict[str, Any]]:
    """One row per provider role present on the claim."""
    rows: list[dict[str, Any]] = [
        {
            "role": "billing",
            "npi": claim.billing_provider.npi,
            "name": claim.billing_provider.name,
            "tax_id": claim.billing_provider.tax_id,
        }
    ]
    for role, provider in (("rendering", claim.rendering_provider), ("referring", claim.referring_provider)):
        if provider is not None:
            rows.append({"role": role, "npi": provider.npi, "name": provider.name, "tax_id": None})
    return rows


class SnapshotWriter(Repository):
    """Writes and searches the snapshot tables (used by ClaimRepository)."""

    async def write(self, *, claim_id: str, version: int, claim: Claim, taken_at: datetime) -> bool:
        """Write the snapshot of one claim version unless it exists; return whether it was written."""
        header = (
            self._insert(InsuranceClaim)
            .values(
                claim_id=claim_id,
                version=version,
                **header_row(claim),
                taken_at=taken_at,
            )
            .on_conflict_do_nothing(index_elements=[InsuranceClaim.claim_id, InsuranceClaim.version])
            .returning(InsuranceClaim.version)
        )
        if (await self.session.execute(header)).scalar_one_or_none() is None:
            return False
        key = {"claim_id": claim_id, "version": version}
        providers = provider_rows(claim)
        await self.session.execute(
            self._insert(ClaimProviderInfo), [{**key, **row, "created_at": taken_at} for row in providers]
        )
        await self.session.execute(
            self._insert(ClaimTestRelation),
            [
                {
                    **key,
                    "line_number": number,
                    "procedure_code": line.procedure_code,
                    "modifiers": list(line.modifiers),
                    "charge": line.charge,
                    "units": line.units,
                    "service_date": line.service_date,
                    "place_of_service": line.place_of_service,
                    "diagnosis_pointers": list(line.diagnosis_pointers),
                    "line_control_number": line.line_control_number,
                    "created_at": taken_at,
                }
                for number, line in enumerate(claim.lines, start=1)
            ],
        )
        if claim.bill_ids:
            await self.session.execute(
                self._insert(BillClaimRelation),
                [{**key, "bill_id": bill_id, "created_at": taken_at} for bill_id in dict.fromkeys(claim.bill_ids)],
            )
        await self._remember_providers(providers)
        return True

    async def _remember_providers(self, providers: list[dict[str, Any]]) -> None:
        """Upsert the reference provider rows: name and tax id as last seen (kept when a claim omits them)."""
        by_npi: dict[str, dict[str, Any]] = {}
        for row in providers:
            seen = by_npi.setdefault(row["npi"], {"npi": row["npi"], "name": None, "tax_id": None})
            seen["name"] = seen["name"] or row["name"]
            seen["tax_id"] = seen["tax_id"] or row["tax_id"]
        now = utcnow()
        for row in sorted(by_npi.values(), key=lambda r: str(r["npi"])):  # one order: no deadlocks between writers
            insert = self._insert(Provider).values(**row, created_at=now, updated_at=now)
            await self.session.execute(
                insert.on_conflict_do_update(
                    index_elements=[Provider.npi],
                    set_={
                        "name": func.coalesce(insert.excluded.name, Provider.name),
                        "tax_id": func.coalesce(insert.excluded.tax_id, Provider.tax_id),
                        "updated_at": now,
                    },
                )
            )

    async def find_duplicates(
        self,
        *,
        claim_id: str,
        org_id: str,
        payer_id: str,
        member_id: str,
        billing_npi: str,
        lines: list[tuple[str, date]],
    ) -> dict[tuple[str, date], str]:
        """For each (procedure code, service date), the oldest other accepted claim of the same organization
        that billed it for the same payer, member and billing provider (latest snapshot version of each claim).
        Another organization's claims are never searched: their existence is not the caller's to learn."""
        wanted = set(lines)
        if not wanted:
            return {}
        latest = (
            select(func.max(InsuranceClaim.version))
            .where(InsuranceClaim.claim_id == ClaimTestRelation.claim_id)
            .correlate(ClaimTestRelation)
            .scalar_subquery()
        )
        stmt = (
            select(ClaimTestRelation.procedure_code, ClaimTestRelation.service_date, ClaimTestRelation.claim_id)
            .join(
                InsuranceClaim,
                and_(
                    InsuranceClaim.claim_id == ClaimTestRelation.claim_id,
                    InsuranceClaim.version == ClaimTestRelation.version,
                ),
            )
            .join(
                ClaimProviderInfo,
                and_(
                    ClaimProviderInfo.claim_id == ClaimTestRelation.claim_id,
                    ClaimProviderInfo.version == ClaimTestRelation.version,
                    ClaimProviderInfo.role == "billing",
                ),
            )
            .join(ClaimRegister, ClaimRegister.claim_id == ClaimTestRelation.claim_id)
            .where(
                ClaimTestRelation.claim_id != claim_id,
                ClaimRegister.org_id == org_id,
                ClaimTestRelation.version == latest,
                ClaimTestRelation.procedure_code.in_({code for code, _ in wanted}),
                ClaimTestRelation.service_date.in_({day for _, day in wanted}),
                InsuranceClaim.payer_id == payer_id,
                InsuranceClaim.member_id == member_id,
                ClaimProviderInfo.npi == billing_npi,
                ClaimRegister.status.not_in([status.value for status in NOT_ACCEPTED]),
            )
            .order_by(ClaimRegister.created_at, ClaimRegister.claim_id)
        )
        found: dict[tuple[str, date], str] = {}
        for code, day, other in await self.session.execute(stmt):
            if (code, day) in wanted:
                found.setdefault((code, day), other)
        return found
