"""The claim snapshot: written once per version, and never changed by later edits elsewhere."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.base import Base
from db.models import (
    BillClaimRelation,
    ClaimProviderInfo,
    ClaimRegister,
    ClaimTestRelation,
    InsuranceClaim,
    Provider,
)
from db.uow import UnitOfWork
from domain.claim import Claim
from tests.db.helpers import at, take_in
from tests.domain.factories import BILLING_NPI, line_body, make_claim

SNAPSHOT_TABLES = (InsuranceClaim, ClaimProviderInfo, ClaimTestRelation, BillClaimRelation)


def two_line_claim(**overrides: Any) -> Claim:
    return make_claim(
        lines=[
            line_body(procedure_code="80053", charge="45.00", line_control_number="L1", service_date="2026-02-20"),
            line_body(
                procedure_code="85025",
                charge="20.50",
                modifiers=["QW"],
                diagnosis_pointers=[2],
                line_control_number="L2",
                service_date="2026-02-21",
            ),
        ],
        rendering_provider={"npi": "1987654328", "name": "Riverside Pathology"},
        bill_ids=["BILL-1", "BILL-2"],
        **overrides,
    )


async def snapshot_rows(sessions: async_sessionmaker[AsyncSession], claim_id: str) -> dict[str, list[dict[str, Any]]]:
    """Every snapshot row of a claim, as plain values."""
    rows: dict[str, list[dict[str, Any]]] = {}
    async with sessions() as session:
        for model in SNAPSHOT_TABLES:
            table = Base.metadata.tables[model.__tablename__]
            result = await session.execute(
                select(table).where(table.c.claim_id == claim_id).order_by(*table.primary_key.columns)
            )
            rows[table.name] = [dict(row._mapping) for row in result]
    return rows


async def write(sessions: async_sessionmaker[AsyncSession], claim_id: str, claim: Claim, version: int = 1) -> bool:
    async with UnitOfWork(sessions) as uow:
        written = await uow.claims.write_snapshot(claim_id=claim_id, version=version, claim=claim, taken_at=at(1))
        await uow.commit()
    return written


async def test_snapshot_copies_the_claim_into_the_four_tables(session_factory):
    claim = two_line_claim()
    claim_id = (await take_in(session_factory, claim=claim)).claim_id

    assert await write(session_factory, claim_id, claim)

    rows = await snapshot_rows(session_factory, claim_id)
    (header,) = rows["insurance_claim"]
    assert header["patient_last_name"] == claim.patient.last_name
    assert header["patient_date_of_birth"] == claim.patient.date_of_birth
    assert header["diagnosis_codes"] == ["E11.9", "I10"]
    assert header["total_charge"] == Decimal("65.50")
    assert header["frequency_code"] == "1"
    assert [(p["role"], p["npi"], p["name"]) for p in rows["claim_provider_info"]] == [
        ("billing", BILLING_NPI, "Sandbox Lab"),
        ("rendering", "1987654328", "Riverside Pathology"),
    ]
    lines = rows["claim_test_relation"]
    assert [(line["line_number"], line["procedure_code"], line["charge"]) for line in lines] == [
        (1, "80053", Decimal("45.00")),
        (2, "85025", Decimal("20.50")),
    ]
    assert lines[1]["modifiers"] == ["QW"] and lines[1]["diagnosis_pointers"] == [2]
    assert lines[1]["service_date"] == date(2026, 2, 21) and lines[1]["line_control_number"] == "L2"
    assert [b["bill_id"] for b in rows["bill_claim_relation"]] == ["BILL-1", "BILL-2"]
    async with UnitOfWork(session_factory) as uow:
        assert (await uow.claims.get_record(claim_id)).snapshot_version == 1  # type: ignore[union-attr]


async def test_a_second_snapshot_of_the_same_version_writes_nothing(session_factory):
    claim = two_line_claim()
    claim_id = (await take_in(session_factory, claim=claim)).claim_id
    assert await write(session_factory, claim_id, claim)
    before = await snapshot_rows(session_factory, claim_id)

    assert not await write(session_factory, claim_id, claim)
    assert not await write(session_factory, claim_id, make_claim())  # even with other content

    assert await snapshot_rows(session_factory, claim_id) == before


async def test_later_changes_to_providers_or_the_claim_never_change_the_snapshot(session_factory):
    claim = two_line_claim()
    claim_id = (await take_in(session_factory, claim=claim)).claim_id
    await write(session_factory, claim_id, claim)
    before = await snapshot_rows(session_factory, claim_id)

    async with UnitOfWork(session_factory) as uow:
        await uow.session.execute(
            update(Provider).where(Provider.npi == BILLING_NPI).values(name="Renamed Lab", tax_id="999999999")
        )
        edited = claim.model_copy(update={"patient_control_number": "EDITED"})
        await uow.session.execute(
            update(ClaimRegister)
            .where(ClaimRegister.claim_id == claim_id)
            .values(document=edited.model_dump(mode="json"))
        )
        await uow.commit()
    # Another claim from the same provider, under a new name, updates the reference row only.
    other = make_claim(billing_provider={"name": "Acme Lab Two"})
    other_id = (await take_in(session_factory, claim=other)).claim_id
    await write(session_factory, other_id, other)

    assert await snapshot_rows(session_factory, claim_id) == before
    async with UnitOfWork(session_factory) as uow:
        provider = await uow.reference.get_provider(BILLING_NPI)
    assert provider is not None and provider.name == "Acme Lab Two" and provider.tax_id == claim.billing_provider.tax_id


async def test_snapshot_remembers_providers_without_forgetting_known_names(session_factory):
    claim = make_claim(referring_provider={"npi": "1555123458"})  # seeded with a name; the claim gives none
    claim_id = (await take_in(session_factory, claim=claim)).claim_id
    await write(session_factory, claim_id, claim)

    async with UnitOfWork(session_factory) as uow:
        referring = await uow.reference.get_provider("1555123458")
        billing = await uow.reference.get_provider(BILLING_NPI)
    assert referring is not None and referring.name == "Dr. Pat Example (fictional)"
    assert billing is not None and billing.name == claim.billing_provider.name


async def test_each_version_has_its_own_snapshot(session_factory):
    claim = two_line_claim()
    claim_id = (await take_in(session_factory, claim=claim)).claim_id
    await write(session_factory, claim_id, claim, version=1)
    corrected = make_claim(frequency_code="7", original_payer_claim_id="PAYER-1")

    assert await write(session_factory, claim_id, corrected, version=2)

    rows = await snapshot_rows(session_factory, claim_id)
    assert [(h["version"], h["frequency_code"]) for h in rows["insurance_claim"]] == [(1, "1"), (2, "7")]
    async with UnitOfWork(session_factory) as uow:
        assert (await uow.claims.get_record(claim_id)).snapshot_version == 2  # type: ignore[union-attr]
