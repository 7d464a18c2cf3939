"""/v1/queues: an adjuster's own queue, and the supervisor's view of every queue and breach."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from api.deps import ContextDep, Overseer, Reviewer
from api.schemas.queues import (
    AdjusterWorkloadRead,
    QueueItemRead,
    QueuePage,
    QueuesOverviewRead,
    TeamWorkloadRead,
    WorkloadRead,
)
from services import queues

router = APIRouter(prefix="/v1/queues", tags=["queues"])

PROBLEMS: dict[int | str, dict[str, object]] = {
    400: {"description": "Bad cursor"},
    401: {"description": "No or an invalid bearer token"},
    403: {"description": "The token's role may not do this"},
}
Limit = Annotated[int, Query(ge=1, le=200)]
Cursor = Annotated[str | None, Query(max_length=500)]


@router.get("/mine", response_model=QueuePage, responses=PROBLEMS)
async def my_queue(principal: Reviewer, context: ContextDep, limit: Limit = 50, cursor: Cursor = None) -> QueuePage:
    """Your claims in review and waiting for information: most urgent first (priority, then review due time).
    Audited."""
    page = await queues.mine(context, principal, limit=limit, cursor=cursor)
    items = [
        QueueItemRead(
            **item.claim.model_dump(exclude={"risk_score"}), priority=item.priority, sla_breached=item.sla_breached
        )
        for item in page.items
    ]
    return QueuePage(data=items, count=len(items), next_cursor=page.next_cursor)


@router.get("", response_model=QueuesOverviewRead, responses=PROBLEMS)
async def every_queue(
    principal: Overseer, context: ContextDep, limit: Limit = 50, cursor: Cursor = None
) -> QueuesOverviewRead:
    """Your team's queues (an admin: every team's): per team and per adjuster the claims in review and waiting for
    information, the oldest, the SLA breaches and the next due time; the claims nobody could be assigned. Audited."""
    overview = await queues.overview(context, principal, limit=limit, cursor=cursor)
    return QueuesOverviewRead(
        as_of=overview.as_of,
        teams=[TeamWorkloadRead.model_validate(team, from_attributes=True) for team in overview.teams],
        adjusters=[
            AdjusterWorkloadRead(
                **adjuster.model_dump(exclude={"active", "away"}),
                status="inactive" if not adjuster.active else "away" if adjuster.away else "active",
            )
            for adjuster in overview.adjusters
        ],
        unassigned=WorkloadRead.model_validate(overview.unassigned, from_attributes=True),
        next_cursor=overview.next_cursor,
    )
