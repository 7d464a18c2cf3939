"""The risk screen against PostgreSQL: the history queries (a patient's earlier standing claims in the organization,
the organization's latest charges per code, the NCCI pairs), the rules table, and the activity — its external scorer
over real HTTP (the sandbox), answering, too slow, or failing."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import date
from decimal import Decimal

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from temporalio.testing import ActivityEnvironment

from activities.contracts import RiskScreenResult, ScreenRiskInput
from activities.risk import RiskActivities
from db.repositories.risk import RiskSubject
from db.seeding import SEED_DIR
from db.uow import UnitOfWork
from domain.claim import Claim
from domain.risk import EXTERNAL_REASON, EXTERNAL_UNAVAILABLE_REASON, RiskRule, RiskRuleKind
from domain.status import ClaimStatus
from tests.db.helpers import at, take_in
from tests.domain.factories import line_body, make_claim

DAY = date(2026, 2, 20)
MEMBER = "RISK0001"


def lab_claim(*lines: tuple[str, str], member: str = MEMBER, on: date = DAY) -> Claim:
    """A claim for `member` with one line per (procedure code, charge), all on `on`."""
    bodies = [
        line_body(procedure_code=code, charge=charge, service_date=on, line_control_number=f"L{n}")
        for n, (code, charge) in enumerate(lines, start=1)
    ]
    return make_claim(lines=bodies, patient={"member_id": member}, insurance={"member_id": member})


async def accepted(
    sessions: async_sessionmaker[AsyncSession],
    claim: Claim,
    *,
    minute: int,
    org_id: str = "org-1",
    status: ClaimStatus = ClaimStatus.SUBMITTED,
) -> str:
    """A claim taken in at `minute`, snapshotted and moved to `status`."""
    claim_id = (await take_in(sessions, claim=claim, received_at=at(minute), org_id=org_id)).claim_id
    async with UnitOfWork(sessions) as uow:
        await uow.claims.write_snapshot(claim_id=claim_id, version=1, claim=claim, taken_at=at(minute))
        await uow.claims.record_status(claim_id=claim_id, seq=1, status=status, reason="r", at=at(minute), actor="w")
        await uow.commit()
    return claim_id


async def subject_of(sessions: async_sessionmaker[AsyncSession], claim_id: str) -> RiskSubject:
    async with UnitOfWork(sessions) as uow:
        subject = await uow.risk.subject(claim_id)
    assert subject is not None
    return subject


@pytest.fixture
async def seeded_rules(
    owner_engine: AsyncEngine, session_factory: async_sessionmaker[AsyncSession]
) -> AsyncIterator[None]:
    """The rules a test changes are put back to the seed afterwards (and rules it adds removed)."""
    yield
    seeds = [RiskRule.model_validate(row) for row in json.loads((SEED_DIR / "risk_rules.json").read_text())]
    async with owner_engine.begin() as connection:
        await connection.execute(
            text("DELETE FROM risk_rule WHERE NOT rule_id = ANY(:ids)"), {"ids": [rule.rule_id for rule in seeds]}
        )
    async with UnitOfWork(session_factory) as uow:
        for rule in seeds:
            await uow.risk.put_rule(rule)
        await uow.commit()


async def test_prior_claims_are_the_patients_earlier_standing_claims_in_the_organization(
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    earlier = await accepted(session_factory, lab_claim(("80053", "45.00")), minute=1)
    await accepted(session_factory, lab_claim(("80053", "45.00")), minute=1, org_id="org-2")  # another organization
    await accepted(session_factory, lab_claim(("80053", "45.00"), member="OTHER001"), minute=1)  # another patient
    await accepted(session_factory, lab_claim(("80053", "45.00")), minute=2, status=ClaimStatus.CANCELLED)
    await accepted(session_factory, lab_claim(("80053", "45.00")), minute=3, status=ClaimStatus.VOIDED)
    subject_id = await accepted(session_factory, lab_claim(("85025", "20.00")), minute=5)
    await accepted(session_factory, lab_claim(("80053", "45.00")), minute=9)  # received after the subject

    subject = await subject_of(session_factory, subject_id)
    async with UnitOfWork(session_factory) as uow:
        prior = await uow.risk.prior_claims(subject, since=DAY)
        too_late = await uow.risk.prior_claims(subject, since=date(2026, 2, 21))

    assert [(claim.claim_id, [line.procedure_code for line in claim.lines]) for claim in prior] == [
        (earlier, ["80053"])
    ]
    assert too_late == []  # lines of service before `since` are left out
    assert subject.org_id == "org-1"
    assert [(line.procedure_code, line.charge) for line in subject.lines] == [("85025", Decimal("20.00"))]


async def test_prior_charges_are_the_organizations_latest_lines_per_code(
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    for minute, charge in ((1, "10.00"), (2, "20.00"), (3, "30.00")):
        await accepted(session_factory, lab_claim(("85025", charge), member=f"PAT{minute:05d}"), minute=minute)
    await accepted(session_factory, lab_claim(("85025", "999.00")), minute=4, org_id="org-2")
    subject_id = await accepted(session_factory, lab_claim(("85025", "25.00"), ("80053", "45.00")), minute=5)

    subject = await subject_of(session_factory, subject_id)
    async with UnitOfWork(session_factory) as uow:
        charges = await uow.risk.prior_charges(subject, ["85025", "80053"], limit=2)

    assert {code: sorted(values) for code, values in charges.items()} == {"85025": [Decimal("20.00"), Decimal("30.00")]}


async def test_pairs_come_from_the_ncci_table(session_factory: async_sessionmaker[AsyncSession]) -> None:
    async with UnitOfWork(session_factory) as uow:
        pairs = await uow.risk.pairs(["80053", "80048", "85025"])
    assert pairs.ptp("80053", "80048", DAY) is not None
    assert pairs.ptp("80048", "80053", DAY) is None  # the order matters: column 2 is bundled into column 1


async def test_the_rules_are_seeded_and_a_put_replaces_or_adds_one(
    session_factory: async_sessionmaker[AsyncSession], seeded_rules: None
) -> None:
    async with UnitOfWork(session_factory) as uow:
        seeded = {rule.rule_id: rule for rule in await uow.risk.rules()}
        replaced = await uow.risk.put_rule(seeded["duplicate.exact"].model_copy(update={"weight": 10}))
        added = await uow.risk.put_rule(RiskRule(rule_id="extra", kind=RiskRuleKind.UNBUNDLING, weight=5))
        await uow.commit()
    async with UnitOfWork(session_factory) as uow:
        after = {rule.rule_id: rule for rule in await uow.risk.rules()}

    assert {rule.kind for rule in seeded.values()} == set(RiskRuleKind)
    assert (replaced, added) == (False, True)
    assert after["duplicate.exact"].weight == 10
    assert after["extra"].kind is RiskRuleKind.UNBUNDLING


async def screen(
    sessions: async_sessionmaker[AsyncSession], claim_id: str, scoring_url: str | None = None, timeout: float = 2.0
) -> RiskScreenResult:
    async with httpx.AsyncClient() as http:
        activities = RiskActivities(sessions, http, threshold=50, scoring_url=scoring_url, scoring_timeout=timeout)
        return await ActivityEnvironment().run(
            activities.screen_claim_risk, ScreenRiskInput(claim_id=claim_id, stage="before_submission")
        )


async def test_the_activity_holds_an_exact_duplicate_and_passes_a_clean_claim(
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    earlier = await accepted(session_factory, lab_claim(("80053", "45.00"), ("85025", "20.00")), minute=1)
    duplicate = await accepted(session_factory, lab_claim(("85025", "20.00"), ("80053", "45.00")), minute=2)
    clean = await accepted(session_factory, lab_claim(("80053", "45.00"), member="CLEAN001"), minute=3)

    held = await screen(session_factory, duplicate)
    passed = await screen(session_factory, clean)

    assert held.held and held.score >= 50
    assert [reason.rule_id for reason in held.reasons][:1] == ["duplicate.exact"]
    assert earlier in held.reasons[0].message
    assert MEMBER not in " ".join(reason.message for reason in held.reasons)
    assert (passed.held, passed.score, passed.reasons) == (False, 0, [])


async def test_the_activity_flags_a_pair_split_across_two_claims_of_one_day(
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    await accepted(session_factory, lab_claim(("80053", "45.00")), minute=1)
    split = await accepted(session_factory, lab_claim(("80048", "30.00")), minute=2)

    result = await screen(session_factory, split)

    assert [reason.rule_id for reason in result.reasons] == ["ncci.unbundling"]
    assert "80053+80048 split with earlier claim" in result.reasons[0].message
    assert not result.held  # 30 points, under the threshold of 50


async def test_the_external_score_counts_when_it_answers_in_time(
    session_factory: async_sessionmaker[AsyncSession], sandbox_url: str
) -> None:
    claim_id = await accepted(session_factory, lab_claim(("80053", "45.00")), minute=1)
    result = await screen(session_factory, claim_id, f"{sandbox_url}/risk/score?score=80")
    assert (result.score, result.held) == (80, True)
    assert [reason.rule_id for reason in result.reasons] == [EXTERNAL_REASON]


@pytest.mark.parametrize("query", ["delay_ms=1500", "status=503"], ids=["too-slow", "failing"])
async def test_an_external_scorer_too_slow_or_failing_leaves_the_rules_score_alone(
    session_factory: async_sessionmaker[AsyncSession], sandbox_url: str, query: str
) -> None:
    await accepted(session_factory, lab_claim(("80053", "45.00")), minute=1)
    duplicate = await accepted(session_factory, lab_claim(("80053", "45.00")), minute=2)

    result = await screen(session_factory, duplicate, f"{sandbox_url}/risk/score?score=0&{query}", timeout=0.3)

    assert [reason.rule_id for reason in result.reasons] == ["duplicate.exact", EXTERNAL_UNAVAILABLE_REASON]
    assert (result.score, result.held) == (60, True)
