"""What the queue endpoints answer: an adjuster's open claims by priority, and per team and adjuster workloads."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from domain.money import Money
from domain.priority import Priority
from domain.status import ClaimStatus


class QueueItemRead(BaseModel):
    """A claim in a queue (no patient data): open it with GET /v1/claims/{claim_id}."""

    claim_id: str
    org_id: str
    status: ClaimStatus
    payer_id: str
    total_charge: Money
    received_at: datetime
    priority: Priority = Field(description="From amount, age, review due time and risk score, computed now.")
    review_due_at: datetime | None = Field(description="The review SLA (null while waiting for information).")
    sla_breached: bool


class QueuePage(BaseModel):
    data: list[QueueItemRead]
    count: int
    next_cursor: str | None


class WorkloadRead(BaseModel):
    in_review: int
    info_requested: int
    breaches: int = Field(description="Claims in review past their review due time.")
    oldest_received_at: datetime | None
    next_due_at: datetime | None


class AdjusterWorkloadRead(WorkloadRead):
    adjuster_id: str
    name: str
    team: str | None
    supervisor: bool
    status: str = Field(description="active, away or inactive")
    capacity: int


class TeamWorkloadRead(WorkloadRead):
    team: str | None
    adjusters: int


class QueuesOverviewRead(BaseModel):
    """Every queue a supervisor oversees (an admin: all): per team, per adjuster (paged), and the unassigned."""

    as_of: datetime
    teams: list[TeamWorkloadRead]
    adjusters: list[AdjusterWorkloadRead]
    unassigned: WorkloadRead = Field(description="Claims in review that no eligible adjuster could be assigned.")
    next_cursor: str | None
