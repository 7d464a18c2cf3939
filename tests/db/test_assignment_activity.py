"""The assignment activity against PostgreSQL: the register names the assignee before the workflow does; claims
assigned at the same moment see each other's load; a retry neither moves the claim nor counts it twice; rules
versions and capacity decide over many claims."""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter
from collections.abc import AsyncIterator
from decimal import Decimal

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from temporalio.testing import ActivityEnvironment

from activities.assignment import AssignmentActivities
from activities.contracts import AssignAdjusterInput, AssignAdjusterResult
from db.records import ClaimScope
from db.uow import UnitOfWork
from domain.assignment import Adjuster, AssignmentRule, RuleMatch
from domain.status import ClaimStatus
from tests.db.helpers import record, take_in

#: How many claims enter review at the same moment in the concurrency test.
AT_ONCE = 10


@pytest.fixture
async def scratch(owner_engine: AsyncEngine) -> AsyncIterator[list[str]]:
    """Adjuster ids a test adds (removed afterwards), and the rules put back to the seeded version 1."""
    added: list[str] = []
    yield added
    async with owner_engine.begin() as connection:
        await connection.execute(text("DELETE FROM adjuster WHERE adjuster_id = ANY(:ids)"), {"ids": added})
        await connection.execute(text("DELETE FROM assignment_rule_set WHERE version > 1"))


async def run_assign(
    sessions: async_sessionmaker[AsyncSession], claim_id: str, **fields: object
) -> AssignAdjusterResult:
    values: dict[str, object] = {"payer_id": "SANDBOX", "amount": Decimal("45.00"), **fields}
    return await ActivityEnvironment().run(
        AssignmentActivities(sessions).assign_adjuster, AssignAdjusterInput(claim_id=claim_id, **values)
    )


async def load(sessions: async_sessionmaker[AsyncSession]) -> dict[str, int]:
    async with UnitOfWork(sessions) as uow:
        return await uow.adjusters.open_load()


async def test_the_chosen_adjuster_can_read_the_claim_as_soon_as_the_activity_returns(
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    intake = await take_in(session_factory)
    result = await run_assign(session_factory, intake.claim_id)

    assert result.adjuster_id
    async with UnitOfWork(session_factory) as uow:
        seen = await uow.claims.get_record(
            intake.claim_id, scope=ClaimScope(kind="assigned", subject=result.adjuster_id)
        )
    assert seen is not None and seen.assigned_adjuster == result.adjuster_id


async def test_the_seeded_rules_version_1_decides_and_is_named_in_the_result(
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    result = await run_assign(session_factory, (await take_in(session_factory)).claim_id)
    assert (result.adjuster_id, result.rule_id, result.rule_version, result.rule) == (
        "alice",
        "default",
        1,
        "default@v1",
    )


async def test_claims_entering_review_at_the_same_moment_split_evenly_over_two_idle_adjusters(
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    """SANDBOX claims of 45.00: alice and bob are eligible and idle (carol, a supervisor, comes after them).
    Each assignment must see the ones made beside it, or most go to alice, the first by id."""
    claim_ids = [(await take_in(session_factory)).claim_id for _ in range(AT_ONCE)]

    results = await asyncio.gather(*(run_assign(session_factory, claim_id) for claim_id in claim_ids))

    assert Counter(result.adjuster_id for result in results) == {"alice": AT_ONCE // 2, "bob": AT_ONCE // 2}
    assert await load(session_factory) == {"alice": AT_ONCE // 2, "bob": AT_ONCE // 2}


async def test_a_retried_assignment_keeps_its_assignee_and_counts_the_claim_once(
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    claim_id = (await take_in(session_factory)).claim_id
    first = await run_assign(session_factory, claim_id)
    retried = await run_assign(session_factory, claim_id)  # as after a worker died before reporting the first

    assert first.adjuster_id == retried.adjuster_id == "alice"  # a fresh choice would take the idle bob
    assert retried.rule == "default@v1"
    assert await load(session_factory) == {"alice": 1}


async def test_a_retried_escalation_keeps_the_supervisor_it_chose(
    session_factory: async_sessionmaker[AsyncSession], scratch: list[str]
) -> None:
    """Two idle supervisors, carol and dora: the escalation takes carol (by id); a fresh choice on retry would take
    dora, now the less loaded."""
    scratch.append("dora")
    async with UnitOfWork(session_factory) as uow:
        await uow.adjusters.add(
            Adjuster(adjuster_id="dora", name="Dora", authority_limit=Decimal("100.00"), supervisor=True)
        )
        await uow.commit()
    claim_id = (await take_in(session_factory)).claim_id
    await run_assign(session_factory, claim_id)
    await record(session_factory, claim_id, 2, ClaimStatus.IN_REVIEW, assigned_adjuster="alice")

    escalated = await run_assign(session_factory, claim_id, escalate=True, exclude=["alice"])
    retried = await run_assign(session_factory, claim_id, escalate=True, exclude=["alice"])

    assert escalated.adjuster_id == retried.adjuster_id == "carol"
    assert escalated.supervisor and retried.supervisor
    assert await load(session_factory) == {"carol": 1}


async def test_a_new_rules_version_decides_the_next_assignment(
    session_factory: async_sessionmaker[AsyncSession], scratch: list[str]
) -> None:
    scratch.append("zed")
    async with UnitOfWork(session_factory) as uow:
        await uow.adjusters.add(Adjuster(adjuster_id="zed", name="Zed", authority_limit=Decimal("100.00"), team="z"))
        version = await uow.adjusters.add_rules(
            [AssignmentRule(rule_id="small-to-z", match=RuleMatch(max_amount=Decimal("50.00")), team="z")],
            "admin:test",
        )
        await uow.commit()

    small = await run_assign(session_factory, (await take_in(session_factory)).claim_id)
    large = await run_assign(session_factory, (await take_in(session_factory)).claim_id, amount=Decimal("50.00"))

    assert (small.adjuster_id, small.rule) == ("zed", f"small-to-z@v{version.version}")
    assert (large.adjuster_id, large.rule_id, large.rule_version) == (None, None, version.version)
    assert "no assignment rule" in large.reason


async def test_a_hundred_claims_over_five_adjusters_fill_each_to_its_capacity(
    session_factory: async_sessionmaker[AsyncSession], scratch: list[str]
) -> None:
    """An organization whose claims a rule sends to a team of five (capacities 10 to 30, 100 in all); assigned ten
    at a time, concurrently."""
    tag = uuid.uuid4().hex[:8]
    org, team = f"org-balance-{tag}", f"balance-{tag}"
    capacities = {f"{name}-{tag}": capacity for name, capacity in zip("abcde", (10, 15, 20, 25, 30), strict=True)}
    scratch.extend(capacities)
    async with UnitOfWork(session_factory) as uow:
        for adjuster_id, capacity in capacities.items():
            await uow.adjusters.add(
                Adjuster(
                    adjuster_id=adjuster_id,
                    name=adjuster_id,
                    authority_limit=Decimal("5000.00"),
                    capacity=capacity,
                    team=team,
                    org_ids=[org],
                )
            )
        rules = await uow.adjusters.add_rules(
            [
                AssignmentRule(rule_id="balance", match=RuleMatch(org_ids=[org]), team=team),
                AssignmentRule(rule_id="default"),
            ],
            "admin:test",
        )
        await uow.commit()
    claim_ids = [(await take_in(session_factory, org_id=org)).claim_id for _ in range(100)]

    results: list[AssignAdjusterResult] = []
    for batch in range(0, 100, 10):
        results += await asyncio.gather(
            *(run_assign(session_factory, claim_id, org_id=org) for claim_id in claim_ids[batch : batch + 10])
        )

    assert Counter(result.adjuster_id for result in results) == capacities
    assert {result.rule for result in results} == {f"balance@v{rules.version}"}
    assert await load(session_factory) == capacities


async def test_an_adjusters_open_claims_are_those_assigned_and_not_yet_decided(
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    """What a reassignment of an away adjuster's work starts from: assigned and not yet decided."""
    entering, in_review, waiting, decided, bobs = [(await take_in(session_factory)).claim_id for _ in range(5)]
    for claim_id, adjuster_id, status in (
        (in_review, "alice", ClaimStatus.IN_REVIEW),
        (waiting, "alice", ClaimStatus.INFO_REQUESTED),
        (decided, "alice", ClaimStatus.APPROVED),
        (bobs, "bob", ClaimStatus.IN_REVIEW),
    ):
        await record(session_factory, claim_id, 2, status, assigned_adjuster=adjuster_id)
    async with UnitOfWork(session_factory) as uow:
        await uow.claims.assign(entering, "alice")  # assigned, its status not yet in review
        await uow.commit()

    async with UnitOfWork(session_factory) as uow:
        open_claims = await uow.adjusters.open_claims_of("alice")
    assert sorted(open_claims) == sorted([entering, in_review, waiting])
    assert await load(session_factory) == {"alice": 3, "bob": 1}
