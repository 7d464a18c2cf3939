"""Duplicate-claim lookups over the snapshots, and the seeded reference data."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from db.uow import UnitOfWork
from domain.claim import Claim
from domain.status import ClaimStatus
from tests.db.helpers import at, take_in
from tests.domain.factories import BILLING_NPI, MEMBER_ID, line_body, make_claim

DAY = date(2026, 2, 20)


async def accepted(
    sessions, claim: Claim, status: ClaimStatus = ClaimStatus.SUBMITTED, minute: int = 0, org_id: str = "org-1"
) -> str:
    """A claim of `org_id` taken in, snapshotted and moved to `status`."""
    claim_id = (await take_in(sessions, claim=claim, received_at=at(minute), org_id=org_id)).claim_id
    async with UnitOfWork(sessions) as uow:
        await uow.claims.write_snapshot(claim_id=claim_id, version=1, claim=claim, taken_at=at(minute))
        await uow.claims.record_status(claim_id=claim_id, seq=1, status=status, reason="r", at=at(minute), actor="w")
        await uow.commit()
    return claim_id


def lab_claim(*codes: str, **overrides) -> Claim:
    lines = [
        line_body(procedure_code=code, service_date=DAY, line_control_number=f"L{n}")
        for n, code in enumerate(codes, start=1)
    ]
    return make_claim(lines=lines, **overrides)


async def duplicates(sessions, claim_id: str, lines: list[tuple[str, date]], **who) -> dict[tuple[str, date], str]:
    criteria = {"org_id": "org-1", "payer_id": "SANDBOX", "member_id": MEMBER_ID, "billing_npi": BILLING_NPI, **who}
    async with UnitOfWork(sessions) as uow:
        return await uow.claims.find_duplicates(claim_id=claim_id, lines=lines, **criteria)


async def test_find_duplicates_names_the_accepted_claim_that_billed_the_same_test(session_factory):
    first = await accepted(session_factory, lab_claim("80053", "85025"), minute=1)
    await accepted(session_factory, lab_claim("80053"), minute=2)  # a later duplicate: the first one is named
    new = await accepted(session_factory, lab_claim("80053", "83036"), status=ClaimStatus.VALIDATING, minute=3)

    found = await duplicates(session_factory, new, [("80053", DAY), ("83036", DAY), ("85025", date(2026, 2, 21))])

    assert found == {("80053", DAY): first}


async def test_find_duplicates_ignores_other_patients_providers_payers_and_unaccepted_claims(session_factory):
    await accepted(session_factory, lab_claim("80053"), status=ClaimStatus.INVALID)
    await accepted(session_factory, lab_claim("80053"), status=ClaimStatus.CANCELLED)
    await accepted(session_factory, lab_claim("80053", insurance={"member_id": "SOMEONE-ELSE"}))
    await accepted(session_factory, lab_claim("80053", billing_provider={"npi": "1987654328"}))
    await accepted(session_factory, lab_claim("80053", insurance={"payer_id": "ACMEHLTH"}))
    itself = await accepted(session_factory, lab_claim("80053"))

    assert await duplicates(session_factory, itself, [("80053", DAY)]) == {}
    assert await duplicates(session_factory, itself, []) == {}


async def test_find_duplicates_never_searches_another_organizations_claims(session_factory):
    """The same patient, provider, test and day billed by another organization is not its duplicate: telling
    would reveal that organization's claim (and its id) to this one."""
    await accepted(session_factory, lab_claim("80053"), org_id="org-other")
    mine = await accepted(session_factory, lab_claim("80053"), status=ClaimStatus.VALIDATING, minute=1)

    assert await duplicates(session_factory, mine, [("80053", DAY)]) == {}
    assert await duplicates(session_factory, mine, [("80053", DAY)], org_id="org-other") != {}


async def test_seeded_adjusters_payers_and_codes(session_factory):
    async with UnitOfWork(session_factory) as uow:
        adjusters = {a.adjuster_id: a for a in await uow.reference.adjusters()}
        carol = await uow.reference.get_adjuster("carol")
        nobody = await uow.reference.get_adjuster("nobody")
        payers = [p.payer_id for p in await uow.reference.payers()]
        icd10 = {c.code: c for c in await uow.reference.icd10_entries()}
        cpt = {c.code: c for c in await uow.reference.cpt_entries()}
        providers = {p.npi for p in await uow.reference.providers()}
        patients = await uow.reference.patients()

    assert adjusters["alice"].authority_limit == Decimal("5000.00") and adjusters["alice"].payer_ids == []
    assert adjusters["bob"].payer_ids == ["SANDBOX"] and adjusters["bob"].authority_limit == Decimal("1000.00")
    assert carol is not None and carol.supervisor and nobody is None
    assert {"SANDBOX", "SANDBOX-X12"} <= set(payers) and len(payers) == 4
    assert icd10["E11.9"].billable and not icd10["E11"].billable
    assert icd10["I10"].effective_date == date(2000, 1, 1) and icd10["I10"].termination_date is None
    assert {"80053", "80061", "85025", "83036", "84443", "81001", "87086", "36415", "82947", "84153", "G0103"} <= set(
        cpt
    )
    assert len(icd10) >= 20 and len(cpt) >= 20
    assert "1234567893" in providers and len(patients) >= 2


async def test_open_load_counts_claims_waiting_on_each_adjuster(session_factory):
    moves = [
        ("alice", ClaimStatus.IN_REVIEW),
        ("alice", ClaimStatus.INFO_REQUESTED),
        ("bob", ClaimStatus.IN_REVIEW),
        ("bob", ClaimStatus.APPROVED),  # decided: no longer open
        (None, ClaimStatus.IN_REVIEW),  # not assigned yet
    ]
    for adjuster, status in moves:
        claim_id = (await take_in(session_factory)).claim_id
        async with UnitOfWork(session_factory) as uow:
            await uow.claims.record_status(
                claim_id=claim_id, seq=1, status=status, reason="r", at=at(1), actor="w", assigned_adjuster=adjuster
            )
            await uow.commit()

    async with UnitOfWork(session_factory) as uow:
        assert await uow.reference.open_load() == {"alice": 2, "bob": 1}
