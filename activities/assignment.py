"""Activity that assigns a claim in review to an adjuster by the assignment rules, one assignment at a time."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio import activity

from activities.contracts import ASSIGN_ADJUSTER, AssignAdjusterInput, AssignAdjusterResult
from db.uow import UnitOfWork
from domain.assignment import NoAdjusterError, RuleSet, WorkItem, assign, rule_for


class AssignmentActivities:
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    @activity.defn(name=ASSIGN_ADJUSTER.name)
    async def assign_adjuster(self, input: AssignAdjusterInput) -> AssignAdjusterResult:
        """Under the assignments' lock, in one transaction: read the rules, the adjusters and their open load,
        choose, and write the assignee into the claim's register (the assignee can read the claim at once).
        Assignments made at the same moment thus see each other's load. No one eligible leaves it unassigned.

        Idempotent: when the register already names an assignee this assignment may have written (one not in
        `exclude`), a retry keeps it instead of counting the claim again and choosing anew."""
        item = WorkItem(payer_id=input.payer_id, amount=input.amount, org_id=input.org_id, claim_kind=input.claim_kind)
        async with UnitOfWork(self._sessions) as uow:
            await uow.adjusters.lock_assignments()
            rules = await uow.adjusters.current_rules()
            if rules is None:
                return AssignAdjusterResult(adjuster_id=None, reason="no assignment rules (run claimflow migrate)")
            current = await uow.adjusters.assignee_of(input.claim_id)
            if current is not None and current not in input.exclude:
                return await self._kept(uow, input, item, rules, current)
            adjusters = await uow.adjusters.every()
            load = await uow.adjusters.open_load()
            try:
                chosen = assign(item, adjusters, load, rules, escalate=input.escalate, exclude=frozenset(input.exclude))
            except NoAdjusterError as exc:
                activity.logger.warning(
                    "claim.unassigned", extra={"claim_id": input.claim_id, "rule_version": rules.version}
                )
                return AssignAdjusterResult(adjuster_id=None, reason=exc.message, rule_version=rules.version)
            await uow.claims.assign(input.claim_id, chosen.adjuster.adjuster_id)
            await uow.commit()
        activity.logger.info(
            "claim.assigned",
            extra={
                "claim_id": input.claim_id,
                "adjuster_id": chosen.adjuster.adjuster_id,
                "rule": chosen.label,
                "escalated": input.escalate,
            },
        )
        return AssignAdjusterResult(
            adjuster_id=chosen.adjuster.adjuster_id,
            supervisor=chosen.adjuster.supervisor,
            reason=_reason(input),
            rule_id=chosen.rule_id,
            rule_version=chosen.rule_version,
        )

    async def _kept(
        self, uow: UnitOfWork, input: AssignAdjusterInput, item: WorkItem, rules: RuleSet, current: str
    ) -> AssignAdjusterResult:
        """A retry of an assignment that was written: the same assignee, with the rule that matches the claim."""
        adjuster = await uow.adjusters.get(current)
        rule = rule_for(item, rules)
        activity.logger.info("claim.assignment_kept", extra={"claim_id": input.claim_id, "adjuster_id": current})
        return AssignAdjusterResult(
            adjuster_id=current,
            supervisor=adjuster is not None and adjuster.supervisor,
            reason=_reason(input),
            rule_id=rule.rule_id if rule else None,
            rule_version=rules.version,
        )


def _reason(input: AssignAdjusterInput) -> str:
    return "escalated" if input.escalate else "assigned by the rules: skills, authority, capacity and load"
