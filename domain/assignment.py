"""Adjuster assignment by rules: skills, authority, then the least loaded."""

from __future__ import annotations

from decimal import Decimal

from pydantic import BaseModel, ConfigDict

from domain.errors import DomainError


class Adjuster(BaseModel):
    """Someone who reviews claims, with what they may review and approve."""

    model_config = ConfigDict(frozen=True)

    adjuster_id: str
    name: str
    payer_ids: list[str] = []  # skills; empty means every payer
    authority_limit: Decimal
    supervisor: bool = False
    active: bool = True
    #: The team whose supervisors see this adjuster's claims; None: in no team.
    team: str | None = None

    def covers(self, payer_id: str) -> bool:
        return not self.payer_ids or payer_id in self.payer_ids


class WorkItem(BaseModel):
    """The facts of a claim that assignment looks at (no PHI)."""

    model_config = ConfigDict(frozen=True)

    payer_id: str
    amount: Decimal


class NoAdjusterError(DomainError):
    code = "no_adjuster"


def choose_adjuster(
    item: WorkItem,
    adjusters: list[Adjuster],
    open_load: dict[str, int],
    *,
    escalate: bool = False,
    exclude: frozenset[str] = frozenset(),
) -> Adjuster:
    """Pick the adjuster for a claim: active, skilled for the payer, with authority for the
    amount (a supervisor when escalating), least loaded first, ties broken by id."""
    eligible = [
        a
        for a in adjusters
        if a.active
        and a.adjuster_id not in exclude
        and a.covers(item.payer_id)
        and (a.supervisor if escalate else a.authority_limit >= item.amount or a.supervisor)
    ]
    if not eligible:
        kind = "supervisor" if escalate else "adjuster"
        raise NoAdjusterError(f"no active {kind} covers payer {item.payer_id} for {item.amount}")
    # Prefer non-supervisors for first assignment; supervisors take escalations.
    return min(eligible, key=lambda a: (a.supervisor != escalate, open_load.get(a.adjuster_id, 0), a.adjuster_id))
