"""Adjuster and assignment-rule shapes: one adjuster, the bodies that add or change one, a version of the rules."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, EmailStr, Field, StringConstraints

from domain.assignment import DEFAULT_CAPACITY, AdjusterStatus, AssignmentRule, ClaimKind
from domain.money import Money
from services.adjusters import Handover

AdjusterId = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9._@-]*$")
]
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
Team = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)]
PayerId = Annotated[str, StringConstraints(strip_whitespace=True, to_upper=True, min_length=1, max_length=30)]
OrgId = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)]
Capacity = Annotated[int, Field(ge=1, le=10_000, description="The most open claims before others are preferred.")]
PayerSkills = Annotated[list[PayerId], Field(max_length=100, description="Payers this adjuster reviews; [] = all.")]
KindSkills = Annotated[list[ClaimKind], Field(max_length=3, description="Claim kinds this adjuster reviews; [] = all.")]
OrgSkills = Annotated[list[OrgId], Field(max_length=100, description="Organizations served; [] = all.")]
Email = Annotated[EmailStr, Field(max_length=254, description="Where assignments and escalations are mailed.")]


class AdjusterRead(BaseModel):
    adjuster_id: str
    name: str
    payer_ids: list[str]
    claim_kinds: list[ClaimKind]
    org_ids: list[str]
    authority_limit: Money
    capacity: int
    status: AdjusterStatus
    supervisor: bool
    team: str | None
    email: str | None
    handover: Handover | None = Field(
        default=None,
        description="After a change of status to away or inactive: the claims reassigned by the rules (claim id to "
        "new assignee) and those that could not move now (claim id to why).",
    )


class AdjusterCreate(BaseModel):
    """A new adjuster: active, taking up to `capacity` open claims, unless told otherwise."""

    model_config = ConfigDict(extra="forbid")

    adjuster_id: AdjusterId
    name: Name
    payer_ids: PayerSkills = []
    claim_kinds: KindSkills = []
    org_ids: OrgSkills = []
    authority_limit: Money
    capacity: Capacity = DEFAULT_CAPACITY
    status: AdjusterStatus = AdjusterStatus.ACTIVE
    supervisor: bool = False
    team: Team | None = None
    email: Email | None = None


class AdjusterUpdate(BaseModel):
    """Fields to change; only those sent are changed (`team: null` takes the adjuster out of its team, `email: null`
    stops its mail)."""

    model_config = ConfigDict(extra="forbid")

    name: Name | None = None
    payer_ids: PayerSkills | None = None
    claim_kinds: KindSkills | None = None
    org_ids: OrgSkills | None = None
    authority_limit: Money | None = None
    capacity: Capacity | None = None
    status: AdjusterStatus | None = None
    supervisor: bool | None = None
    team: Team | None = None
    email: Email | None = None


class AdjusterList(BaseModel):
    data: list[AdjusterRead]


class AssignmentRulesRead(BaseModel):
    """A version of the ordered assignment rules: the first rule matching a claim picks its pool."""

    version: int
    set_by: str
    set_at: datetime
    rules: list[AssignmentRule]


class AssignmentRulesSet(BaseModel):
    """The whole new ordered list; it becomes the next version."""

    model_config = ConfigDict(extra="forbid")

    rules: Annotated[list[AssignmentRule], Field(min_length=1, max_length=100)]
