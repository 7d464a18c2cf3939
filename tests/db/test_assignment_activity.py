"""The assignment activity puts the claim on the adjuster's desk in the register before the workflow says so."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.testing import ActivityEnvironment

from activities.assignment import AssignmentActivities
from activities.contracts import AssignAdjusterInput
from db.records import ClaimScope
from db.uow import UnitOfWork
from tests.db.helpers import take_in


async def test_the_chosen_adjuster_can_read_the_claim_as_soon_as_the_activity_returns(
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    intake = await take_in(session_factory)
    result = await ActivityEnvironment().run(
        AssignmentActivities(session_factory).assign_adjuster,
        AssignAdjusterInput(claim_id=intake.claim_id, payer_id="SANDBOX", amount=Decimal("45.00")),
    )

    assert result.adjuster_id
    async with UnitOfWork(session_factory) as uow:
        seen = await uow.claims.get_record(
            intake.claim_id, scope=ClaimScope(kind="assigned", subject=result.adjuster_id)
        )
    assert seen is not None and seen.assigned_adjuster == result.adjuster_id
