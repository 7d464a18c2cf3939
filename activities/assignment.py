"""Activity that assigns a claim in review to an adjuster by the work-management rules."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio import activity

from activities.contracts import ASSIGN_ADJUSTER, AssignAdjusterInput, AssignAdjusterResult
from db.uow import UnitOfWork
from domain.assignment import NoAdjusterError, WorkItem, choose_adjuster


class AssignmentActivities:
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    @activity.defn(name=ASSIGN_ADJUSTER.name)
    async def assign_adjuster(self, input: AssignAdjusterInput) -> AssignAdjusterResult:
        """Choose by skills and authority, then the least loaded; no one eligible leaves it unassigned."""
        async with UnitOfWork(self._sessions) as uow:
            adjusters = await uow.reference.adjusters()
            load = await uow.reference.open_load()
        try:
            chosen = choose_adjuster(
                WorkItem(payer_id=input.payer_id, amount=input.amount),
                adjusters,
                load,
                escalate=input.escalate,
                exclude=frozenset(input.exclude),
            )
        except NoAdjusterError as exc:
            activity.logger.warning("claim.unassigned", extra={"claim_id": input.claim_id, "payer_id": input.payer_id})
            return AssignAdjusterResult(adjuster_id=None, reason=exc.message)
        async with UnitOfWork(self._sessions) as uow:  # the register first: the assignee can read the claim at once
            await uow.claims.assign(input.claim_id, chosen.adjuster_id)
            await uow.commit()
        activity.logger.info(
            "claim.assigned",
            extra={"claim_id": input.claim_id, "adjuster_id": chosen.adjuster_id, "escalated": input.escalate},
        )
        return AssignAdjusterResult(
            adjuster_id=chosen.adjuster_id,
            supervisor=chosen.supervisor,
            reason="escalated" if input.escalate else "assigned by skills, authority and load",
        )
