"""/v1/adjusters and /v1/assignment-rules: the adjusters and the versioned assignment rules (admins only)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Response, status

from api.deps import Admin, ContextDep
from api.schemas.adjusters import (
    AdjusterCreate,
    AdjusterList,
    AdjusterRead,
    AdjusterUpdate,
    AssignmentRulesRead,
    AssignmentRulesSet,
)
from domain.assignment import Adjuster, RuleSet, status_flags
from services import adjusters

router = APIRouter(prefix="/v1", tags=["adjusters"])
AdjusterId = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9._@-]*$")]
Version = Annotated[int, Path(ge=1, le=2**31 - 1)]

PROBLEMS: dict[int | str, dict[str, object]] = {
    401: {"description": "No or an invalid bearer token"},
    403: {"description": "Admins only"},
}


def _read(adjuster: Adjuster) -> AdjusterRead:
    return AdjusterRead.model_validate(adjusters.view(adjuster))


def _rules(rules: RuleSet) -> AssignmentRulesRead:
    return AssignmentRulesRead.model_validate(rules.model_dump())


@router.get("/adjusters", response_model=AdjusterList, responses=PROBLEMS)
async def list_adjusters(principal: Admin, context: ContextDep) -> AdjusterList:
    """Every adjuster, whatever its status, by id."""
    return AdjusterList(data=[_read(adjuster) for adjuster in await adjusters.list_adjusters(context)])


@router.post(
    "/adjusters",
    status_code=status.HTTP_201_CREATED,
    response_model=AdjusterRead,
    responses={**PROBLEMS, 409: {"description": "Exists"}, 422: {}},
)
async def create_adjuster(
    body: AdjusterCreate, principal: Admin, context: ContextDep, response: Response
) -> AdjusterRead:
    """Add an adjuster (or supervisor): skills, authority limit, capacity, status, team. Audited."""
    adjuster = Adjuster(**body.model_dump(exclude={"status"}), **status_flags(body.status))
    created = await adjusters.create_adjuster(context, principal, adjuster)
    response.headers["Location"] = f"/v1/adjusters/{created.adjuster_id}"
    return _read(created)


@router.get("/adjusters/{adjuster_id}", response_model=AdjusterRead, responses={**PROBLEMS, 404: {}, 422: {}})
async def get_adjuster(adjuster_id: AdjusterId, principal: Admin, context: ContextDep) -> AdjusterRead:
    return _read(await adjusters.get_adjuster(context, adjuster_id))


@router.patch(
    "/adjusters/{adjuster_id}",
    response_model=AdjusterRead,
    responses={**PROBLEMS, 404: {"description": "No such adjuster"}, 422: {}},
)
async def update_adjuster(
    adjuster_id: AdjusterId, body: AdjusterUpdate, principal: Admin, context: ContextDep
) -> AdjusterRead:
    """Change an adjuster: skills, authority limit, capacity, status (active, away, inactive), supervisor, team.
    Audited with each changed field's value before and after. Set away or inactive, their claims in review or
    waiting for information are reassigned by the rules (`handover` says to whom, and which could not move)."""
    changes = body.model_dump(exclude_unset=True)
    changed = await adjusters.update_adjuster(context, principal, adjuster_id, changes)
    read = _read(changed)
    if "status" in changes:
        read.handover = await adjusters.hand_over(context, principal, changed)
    return read


@router.get("/assignment-rules", response_model=AssignmentRulesRead, responses=PROBLEMS)
async def current_rules(principal: Admin, context: ContextDep) -> AssignmentRulesRead:
    """The rules in force: the newest version, who set it and when, the ordered rules."""
    return _rules(await adjusters.current_rules(context))


@router.put("/assignment-rules", response_model=AssignmentRulesRead, responses={**PROBLEMS, 422: {}})
async def set_rules(body: AssignmentRulesSet, principal: Admin, context: ContextDep) -> AssignmentRulesRead:
    """Replace the ordered rules: the list becomes a new version, in force for the next assignment. Audited."""
    return _rules(await adjusters.set_rules(context, principal, body.rules))


@router.get(
    "/assignment-rules/versions/{version}", response_model=AssignmentRulesRead, responses={**PROBLEMS, 404: {}, 422: {}}
)
async def rules_version(version: Version, principal: Admin, context: ContextDep) -> AssignmentRulesRead:
    """An earlier (or the current) version of the rules."""
    return _rules(await adjusters.rules_version(context, version))
