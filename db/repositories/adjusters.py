"""AdjusterRepository: the adjusters admins keep, the versions of the assignment rules, and the assignments' lock."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import func, select, text, update

from db.models import Adjuster, AssignmentRuleSet, ClaimRegister
from db.repositories.base import Repository
from domain import assignment
from domain.status import ClaimStatus

#: Serialises assignments (any fixed 64-bit number): each reads the load, chooses and writes under it, so two
#: claims entering review at once see each other. One key for every pool, since rules' pools overlap.
ASSIGNMENT_LOCK_ID = 5_120_774_301
#: Serialises new versions of the assignment rules, so two at once get consecutive numbers.
RULES_LOCK_ID = 5_120_774_302

#: Statuses in which an assigned claim is on its adjuster's desk: in review or waiting for information, and the
#: statuses before review, since the assignment is written into the register before the claim's status moves to
#: review (a claim never goes back to them once in review).
ON_DESK: tuple[ClaimStatus, ...] = (
    ClaimStatus.RECEIVED,
    ClaimStatus.VALIDATING,
    ClaimStatus.READY,
    ClaimStatus.SUBMITTED,
    ClaimStatus.PENDING,
    ClaimStatus.IN_REVIEW,
    ClaimStatus.INFO_REQUESTED,
)


def to_adjuster(row: Adjuster) -> assignment.Adjuster:
    return assignment.Adjuster(
        adjuster_id=row.adjuster_id,
        name=row.name,
        payer_ids=row.payer_ids,
        claim_kinds=[assignment.ClaimKind(kind) for kind in row.claim_kinds],
        org_ids=row.org_ids,
        authority_limit=row.authority_limit,
        capacity=row.capacity,
        supervisor=row.supervisor,
        active=row.active,
        away=row.away,
        team=row.team,
        email=row.email,
    )


def to_rule_set(row: AssignmentRuleSet) -> assignment.RuleSet:
    return assignment.RuleSet(
        version=row.version,
        rules=[assignment.AssignmentRule.model_validate(rule) for rule in row.rules],
        set_by=row.set_by,
        set_at=row.set_at,
    )


class AdjusterRepository(Repository):
    """Adjusters and assignment rules as data."""

    async def lock_assignments(self) -> None:
        """Hold the assignments' lock until the transaction ends; take it before reading the load."""
        await self.session.execute(text("SELECT pg_advisory_xact_lock(:id)"), {"id": ASSIGNMENT_LOCK_ID})

    async def every(self) -> list[assignment.Adjuster]:
        """Every adjuster, whatever its status, by id."""
        rows = await self.session.scalars(select(Adjuster).order_by(Adjuster.adjuster_id))
        return [to_adjuster(row) for row in rows]

    async def get(self, adjuster_id: str, *, for_update: bool = False) -> assignment.Adjuster | None:
        row = await self.session.get(Adjuster, adjuster_id, with_for_update=for_update, populate_existing=True)
        return None if row is None else to_adjuster(row)

    async def add(self, adjuster: assignment.Adjuster) -> bool:
        """Insert the adjuster; False when one of that id exists."""
        stmt = (
            self._insert(Adjuster)
            .values(**adjuster.model_dump())
            .on_conflict_do_nothing(index_elements=["adjuster_id"])
            .returning(Adjuster.adjuster_id)
        )
        return (await self.session.execute(stmt)).scalar_one_or_none() is not None

    async def change(self, adjuster_id: str, values: dict[str, Any]) -> assignment.Adjuster | None:
        """Set the columns in `values`; the adjuster as it is now, None when there is none of that id."""
        await self.session.execute(
            update(Adjuster)
            .where(Adjuster.adjuster_id == adjuster_id)
            .values(**values, updated_at=func.now())
            .execution_options(synchronize_session=False)
        )
        return await self.get(adjuster_id)

    async def open_load(self) -> dict[str, int]:
        """How many claims each adjuster has open: in review, waiting for information, or assigned on their way
        into review (the assignment is in the register before the status)."""
        rows = await self.session.execute(
            select(ClaimRegister.assigned_adjuster, func.count())
            .where(
                ClaimRegister.status.in_([status.value for status in ON_DESK]),
                ClaimRegister.assigned_adjuster.is_not(None),
            )
            .group_by(ClaimRegister.assigned_adjuster)
        )
        return {adjuster: count for adjuster, count in rows if adjuster is not None}

    async def assignee_of(self, claim_id: str) -> str | None:
        """Who the register says the claim is assigned to."""
        found: str | None = await self.session.scalar(
            select(ClaimRegister.assigned_adjuster).where(ClaimRegister.claim_id == claim_id)
        )
        return found

    async def open_claims_of(self, adjuster_id: str, *, statuses: Iterable[ClaimStatus] = ON_DESK) -> list[str]:
        """The ids of the claims on the adjuster's desk (or in `statuses`), oldest first."""
        rows = await self.session.scalars(
            select(ClaimRegister.claim_id)
            .where(
                ClaimRegister.assigned_adjuster == adjuster_id,
                ClaimRegister.status.in_([status.value for status in statuses]),
            )
            .order_by(ClaimRegister.created_at, ClaimRegister.claim_id)
        )
        return list(rows)

    async def current_rules(self) -> assignment.RuleSet | None:
        """The newest version of the assignment rules (None only before the seed)."""
        row = await self.session.scalar(select(AssignmentRuleSet).order_by(AssignmentRuleSet.version.desc()).limit(1))
        return None if row is None else to_rule_set(row)

    async def rules_version(self, version: int) -> assignment.RuleSet | None:
        row = await self.session.get(AssignmentRuleSet, version)
        return None if row is None else to_rule_set(row)

    async def add_rules(self, rules: list[assignment.AssignmentRule], set_by: str) -> assignment.RuleSet:
        """A new version of the rules, numbered after the newest; earlier versions stay."""
        await self.session.execute(text("SELECT pg_advisory_xact_lock(:id)"), {"id": RULES_LOCK_ID})
        newest = await self.session.scalar(select(func.max(AssignmentRuleSet.version)))
        stmt = (
            self._insert(AssignmentRuleSet)
            .values(version=(newest or 0) + 1, rules=[rule.model_dump(mode="json") for rule in rules], set_by=set_by)
            .returning(AssignmentRuleSet.version, AssignmentRuleSet.set_at)
        )
        version, set_at = (await self.session.execute(stmt)).one()
        return assignment.RuleSet(version=version, rules=rules, set_by=set_by, set_at=set_at)
