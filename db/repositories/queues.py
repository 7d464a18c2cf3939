"""Adjusters' work queues: an adjuster's open claims, and per adjuster and team the counts, oldest and breaches."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Label, Select, and_, func, select

from db.models import Adjuster, ClaimRegister
from db.records import Record
from db.repositories.base import Repository
from domain.status import OPEN_WORK, ClaimStatus

_OPEN_WORK = [status.value for status in OPEN_WORK]


class QueueItemRecord(Record):
    """An open claim of a queue (no PHI: ids, codes, amounts and times)."""

    claim_id: str
    org_id: str
    status: ClaimStatus
    payer_id: str
    total_charge: Decimal
    received_at: datetime
    review_due_at: datetime | None
    risk_score: int | None


class WorkloadRecord(Record):
    """The open work of one adjuster, or of a whole team (then no adjuster fields)."""

    in_review: int
    info_requested: int
    breaches: int
    oldest_received_at: datetime | None
    next_due_at: datetime | None


class AdjusterWorkloadRecord(WorkloadRecord):
    adjuster_id: str
    name: str
    team: str | None
    supervisor: bool
    active: bool
    away: bool
    capacity: int


class TeamWorkloadRecord(WorkloadRecord):
    team: str | None
    adjusters: int


def _workload_columns(now: datetime) -> list[Label[Any]]:
    in_review = ClaimRegister.status == ClaimStatus.IN_REVIEW.value
    return [
        func.count(ClaimRegister.claim_id).filter(in_review).label("in_review"),
        func.count(ClaimRegister.claim_id)
        .filter(ClaimRegister.status == ClaimStatus.INFO_REQUESTED.value)
        .label("info_requested"),
        func.count(ClaimRegister.claim_id).filter(in_review, ClaimRegister.review_due_at <= now).label("breaches"),
        func.min(ClaimRegister.created_at).label("oldest_received_at"),
        func.min(ClaimRegister.review_due_at).filter(in_review).label("next_due_at"),
    ]


def _with_open_work(stmt: Select[Any]) -> Select[Any]:
    """LEFT JOIN each adjuster's open claims (an idle adjuster still has a row, with zeros)."""
    return stmt.outerjoin(
        ClaimRegister,
        and_(ClaimRegister.assigned_adjuster == Adjuster.adjuster_id, ClaimRegister.status.in_(_OPEN_WORK)),
    )


class QueueRepository(Repository):
    """Reads for queues; never writes."""

    async def open_work(self, adjuster_id: str) -> list[QueueItemRecord]:
        """Every claim assigned to the adjuster that is in review or waiting for information (bounded by the
        adjuster's load; the caller orders them by priority, which depends on the time)."""
        rows = await self.session.execute(
            select(
                ClaimRegister.claim_id,
                ClaimRegister.org_id,
                ClaimRegister.status,
                ClaimRegister.payer_id,
                ClaimRegister.total_charge,
                ClaimRegister.created_at.label("received_at"),
                ClaimRegister.review_due_at,
                ClaimRegister.risk_score,
            ).where(ClaimRegister.assigned_adjuster == adjuster_id, ClaimRegister.status.in_(_OPEN_WORK))
        )
        return [QueueItemRecord.model_validate(row, from_attributes=True) for row in rows]

    async def adjuster_workloads(
        self, *, team: str | None, every_team: bool, after: str | None, limit: int, now: datetime
    ) -> list[AdjusterWorkloadRecord]:
        """Per adjuster (of `team`, or of every team), by adjuster id after `after`: up to `limit` rows."""
        stmt = _with_open_work(
            select(
                Adjuster.adjuster_id,
                Adjuster.name,
                Adjuster.team,
                Adjuster.supervisor,
                Adjuster.active,
                Adjuster.away,
                Adjuster.capacity,
                *_workload_columns(now),
            )
        )
        if not every_team:
            stmt = stmt.where(Adjuster.team == team)
        if after is not None:
            stmt = stmt.where(Adjuster.adjuster_id > after)
        rows = await self.session.execute(
            stmt.group_by(Adjuster.adjuster_id).order_by(Adjuster.adjuster_id).limit(limit)
        )
        return [AdjusterWorkloadRecord.model_validate(row, from_attributes=True) for row in rows]

    async def team_workloads(self, *, team: str | None, every_team: bool, now: datetime) -> list[TeamWorkloadRecord]:
        """Per team (the one, or every team; adjusters in no team are the team None), by team."""
        stmt = _with_open_work(
            select(
                Adjuster.team,
                func.count(func.distinct(Adjuster.adjuster_id)).label("adjusters"),
                *_workload_columns(now),
            )
        )
        if not every_team:
            stmt = stmt.where(Adjuster.team == team)
        rows = await self.session.execute(stmt.group_by(Adjuster.team).order_by(Adjuster.team.nulls_last()))
        return [TeamWorkloadRecord.model_validate(row, from_attributes=True) for row in rows]

    async def unassigned(self, now: datetime) -> WorkloadRecord:
        """Claims in review that nobody is assigned (no eligible adjuster was found): every supervisor's to see."""
        row = (
            await self.session.execute(
                select(*_workload_columns(now)).where(
                    ClaimRegister.assigned_adjuster.is_(None), ClaimRegister.status.in_(_OPEN_WORK)
                )
            )
        ).one()
        return WorkloadRecord.model_validate(row, from_attributes=True)
