"""Work queues: an adjuster's own claims by priority and due time, and the supervisor's view of every queue."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from pydantic import BaseModel, ConfigDict

from db.errors import InvalidCursorError
from db.repositories.cursor import decode_cursor, encode_cursor
from db.repositories.queues import AdjusterWorkloadRecord, QueueItemRecord, TeamWorkloadRecord, WorkloadRecord
from db.uow import UnitOfWork
from domain.priority import Priority, PriorityFacts, breached, priority_of
from domain.status import ClaimStatus
from services.access import Principal, Role
from services.context import ServiceContext
from services.errors import ForbiddenError


class QueueItem(BaseModel):
    """A claim in a queue, with the priority it has now."""

    model_config = ConfigDict(frozen=True)

    claim: QueueItemRecord
    priority: Priority
    sla_breached: bool


class QueuePage(BaseModel):
    items: list[QueueItem]
    next_cursor: str | None


class QueuesOverview(BaseModel):
    """Per team (every one, unpaged) and per adjuster (a page), plus the claims in review nobody is assigned."""

    teams: list[TeamWorkloadRecord]
    adjusters: list[AdjusterWorkloadRecord]
    unassigned: WorkloadRecord
    next_cursor: str | None
    as_of: datetime


def _sort_key(item: QueueItem) -> tuple[int, datetime, str]:
    due = item.claim.review_due_at or datetime.max.replace(tzinfo=UTC)  # waiting for information: after the due ones
    return item.priority.rank, due, item.claim.claim_id


def _cursor_of(item: QueueItem) -> str:
    rank, due, claim_id = _sort_key(item)
    return encode_cursor(f"{rank}|{due.isoformat()}", claim_id)


def _after(cursor: str) -> tuple[int, datetime, str]:
    head, claim_id = decode_cursor(cursor, str, str)
    rank, _, due = head.partition("|")
    try:
        return int(rank), datetime.fromisoformat(due), claim_id
    except ValueError as error:
        raise InvalidCursorError() from error


async def mine(context: ServiceContext, principal: Principal, *, limit: int, cursor: str | None) -> QueuePage:
    """The caller's claims in review and waiting for information: by priority (computed now), then review due time,
    then claim id; keyset-paged on that order (a claim whose priority changes between two pages may move). Audited."""
    now = datetime.now(UTC)
    async with UnitOfWork(context.sessions) as uow:
        records = await uow.queues.open_work(principal.sub)
        items = sorted(
            (
                QueueItem(
                    claim=record,
                    priority=priority_of(
                        PriorityFacts(
                            amount=record.total_charge,
                            received_at=record.received_at,
                            review_due_at=record.review_due_at,
                            risk_score=record.risk_score,
                        ),
                        now,
                    ),
                    sla_breached=record.status is ClaimStatus.IN_REVIEW and breached(record.review_due_at, now),
                )
                for record in records
            ),
            key=_sort_key,
        )
        if cursor is not None:
            after = _after(cursor)
            items = [item for item in items if _sort_key(item) > after]
        page, more = items[:limit], len(items) > limit
        await uow.audit.append(
            claim_id=None,
            actor=principal.label,
            action="queue.read",
            at=now,
            details={"queue": "mine", "claim_ids": [item.claim.claim_id for item in page], "count": len(page)},
            event_key=f"queue-{uuid.uuid4().hex}",
        )
        await uow.commit()
    return QueuePage(items=page, next_cursor=_cursor_of(page[-1]) if more and page else None)


async def overview(context: ServiceContext, principal: Principal, *, limit: int, cursor: str | None) -> QueuesOverview:
    """A supervisor's team (an admin's: every team): per team and per adjuster, the claims in review and waiting
    for information, the oldest, the review SLA breaches and the next due time; adjusters keyset-paged by id."""
    now = datetime.now(UTC)
    after = decode_cursor(cursor, str)[0] if cursor is not None else None
    async with UnitOfWork(context.sessions) as uow:
        team: str | None = None
        every_team = principal.role is Role.ADMIN
        if not every_team:
            supervisor = await uow.reference.get_adjuster(principal.sub)
            if supervisor is None or not supervisor.supervisor or not supervisor.active or supervisor.team is None:
                raise ForbiddenError(
                    f"{principal.sub} is not an active supervisor of a team; an admin sets the team (PATCH /v1/adjusters)"
                )
            team = supervisor.team
        adjusters = await uow.queues.adjuster_workloads(
            team=team, every_team=every_team, after=after, limit=limit + 1, now=now
        )
        teams = await uow.queues.team_workloads(team=team, every_team=every_team, now=now)
        unassigned = await uow.queues.unassigned(now)
        await uow.audit.append(
            claim_id=None,
            actor=principal.label,
            action="queue.read",
            at=now,
            details={"queue": "overview", "team": team, "adjusters": len(adjusters[:limit])},
            event_key=f"queue-{uuid.uuid4().hex}",
        )
        await uow.commit()
    page = adjusters[:limit]
    more = len(adjusters) > limit
    return QueuesOverview(
        teams=teams,
        adjusters=page,
        unassigned=unassigned,
        next_cursor=encode_cursor(page[-1].adjuster_id) if more and page else None,
        as_of=now,
    )
