"""Adjuster assignment by rules as data: the first matching rule picks the pool, then skills and authority, then
capacity, then the least loaded relative to capacity, ties by adjuster id."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from fractions import Fraction
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, model_validator

from domain.errors import DomainError
from domain.lineage import LineageKind
from domain.money import Money

#: Open claims an adjuster takes before others are preferred, unless set otherwise.
DEFAULT_CAPACITY = 25


class AdjusterStatus(StrEnum):
    """Active takes new claims; away keeps (and may decide) its claims but takes none; inactive works no claims."""

    ACTIVE = "active"
    AWAY = "away"
    INACTIVE = "inactive"


class ClaimKind(StrEnum):
    """What a claim is to its payer: an original, a replacement (frequency 7) or a void (frequency 8)."""

    ORIGINAL = "original"
    REPLACEMENT = "replacement"
    VOID = "void"


def claim_kind_of(lineage: LineageKind | None) -> ClaimKind:
    """The kind of a claim from how it relates to an original (None: it is an original)."""
    match lineage:
        case None:
            return ClaimKind.ORIGINAL
        case LineageKind.REPLACES:
            return ClaimKind.REPLACEMENT
        case LineageKind.VOIDS:
            return ClaimKind.VOID


class Adjuster(BaseModel):
    """Someone who reviews claims, with what they may review and approve and how many open claims they take.

    Skills are lists where empty means every one: payers, claim kinds, organizations served. `active` false is
    inactive; `away` (while active) keeps its claims but takes no new ones."""

    model_config = ConfigDict(frozen=True)

    adjuster_id: str
    name: str
    payer_ids: list[str] = []
    claim_kinds: list[ClaimKind] = []
    org_ids: list[str] = []
    authority_limit: Decimal
    capacity: Annotated[int, Field(ge=1)] = DEFAULT_CAPACITY
    supervisor: bool = False
    active: bool = True
    away: bool = False
    #: The team whose supervisors see this adjuster's claims; None: in no team.
    team: str | None = None
    #: Where assignments and escalations are mailed (when the engine sends mail); None: not mailed.
    email: str | None = None

    @property
    def status(self) -> AdjusterStatus:
        if not self.active:
            return AdjusterStatus.INACTIVE
        return AdjusterStatus.AWAY if self.away else AdjusterStatus.ACTIVE

    def covers(self, payer_id: str) -> bool:
        return not self.payer_ids or payer_id in self.payer_ids

    def serves(self, item: WorkItem) -> bool:
        """Skilled for the claim: its payer, its kind and its organization."""
        return (
            self.covers(item.payer_id)
            and (not self.claim_kinds or item.claim_kind in self.claim_kinds)
            and (not self.org_ids or item.org_id in self.org_ids)
        )


def status_flags(status: AdjusterStatus) -> dict[str, bool]:
    """The stored `active` and `away` of a status."""
    return {"active": status is not AdjusterStatus.INACTIVE, "away": status is AdjusterStatus.AWAY}


class WorkItem(BaseModel):
    """The facts of a claim that assignment looks at (no PHI)."""

    model_config = ConfigDict(frozen=True)

    payer_id: str
    amount: Decimal
    org_id: str = ""
    claim_kind: ClaimKind = ClaimKind.ORIGINAL


class RuleMatch(BaseModel):
    """Which claims a rule takes; every empty list or missing bound matches any claim."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    payer_ids: list[str] = []
    org_ids: list[str] = []
    claim_kinds: list[ClaimKind] = []
    #: The claim's total charge is at least this (inclusive) ...
    min_amount: Money | None = None
    #: ... and below this (exclusive), so that consecutive ranges do not overlap.
    max_amount: Money | None = None

    @model_validator(mode="after")
    def _range(self) -> RuleMatch:
        if self.min_amount is not None and self.max_amount is not None and self.min_amount >= self.max_amount:
            raise ValueError("min_amount must be below max_amount (the range is min_amount <= total < max_amount)")
        return self

    def matches(self, item: WorkItem) -> bool:
        return (
            (not self.payer_ids or item.payer_id in self.payer_ids)
            and (not self.org_ids or item.org_id in self.org_ids)
            and (not self.claim_kinds or item.claim_kind in self.claim_kinds)
            and (self.min_amount is None or item.amount >= self.min_amount)
            and (self.max_amount is None or item.amount < self.max_amount)
        )


class AssignmentRule(BaseModel):
    """A rule: which claims it takes, and the pool it gives them (a team, supervisors only); no action: everyone."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    rule_id: Annotated[str, Field(min_length=1, max_length=40, pattern=r"^[a-z0-9][a-z0-9._-]*$")]
    match: RuleMatch = RuleMatch()
    team: Annotated[str, Field(min_length=1, max_length=64)] | None = None
    require_supervisor: bool = False

    def pool(self, adjusters: list[Adjuster]) -> list[Adjuster]:
        return [
            a
            for a in adjusters
            if (self.team is None or a.team == self.team) and (a.supervisor or not self.require_supervisor)
        ]


class RuleSet(BaseModel):
    """One version of the ordered assignment rules: who set it and when."""

    model_config = ConfigDict(frozen=True)

    version: int
    rules: list[AssignmentRule]
    set_by: str
    set_at: datetime


class Assignment(BaseModel):
    """Who was chosen, by which rule of which version."""

    model_config = ConfigDict(frozen=True)

    adjuster: Adjuster
    rule_id: str
    rule_version: int

    @property
    def label(self) -> str:
        """How the claim shows the deciding rule: `rule-id@v3`."""
        return rule_label(self.rule_id, self.rule_version)


def rule_label(rule_id: str, version: int) -> str:
    return f"{rule_id}@v{version}"


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
    """Pick from a pool: active and not away, skilled for the claim, with authority for the amount (a supervisor
    when escalating); then those below capacity (everyone, when all are at or above it); non-supervisors first
    on a first assignment; then the least loaded relative to capacity, ties broken by id."""
    eligible = [
        a
        for a in adjusters
        if a.status is AdjusterStatus.ACTIVE
        and a.adjuster_id not in exclude
        and a.serves(item)
        and (a.supervisor if escalate else a.authority_limit >= item.amount or a.supervisor)
    ]
    if not eligible:
        kind = "supervisor" if escalate else "adjuster"
        raise NoAdjusterError(f"no active {kind} covers payer {item.payer_id} for {item.amount}")
    below = [a for a in eligible if open_load.get(a.adjuster_id, 0) < a.capacity] or eligible
    return min(
        below,
        key=lambda a: (a.supervisor != escalate, Fraction(open_load.get(a.adjuster_id, 0), a.capacity), a.adjuster_id),
    )


def rule_for(item: WorkItem, rules: RuleSet) -> AssignmentRule | None:
    """The first rule, in order, that matches the claim."""
    return next((rule for rule in rules.rules if rule.match.matches(item)), None)


def assign(
    item: WorkItem,
    adjusters: list[Adjuster],
    open_load: dict[str, int],
    rules: RuleSet,
    *,
    escalate: bool = False,
    exclude: frozenset[str] = frozenset(),
) -> Assignment:
    """The first rule of `rules` that matches the claim picks the pool; choose_adjuster picks from it."""
    rule = rule_for(item, rules)
    if rule is None:
        raise NoAdjusterError(f"no assignment rule of version {rules.version} matches the claim")
    try:
        chosen = choose_adjuster(item, rule.pool(adjusters), open_load, escalate=escalate, exclude=exclude)
    except NoAdjusterError as exc:
        raise NoAdjusterError(f"{exc.message} in the pool of rule {rule_label(rule.rule_id, rules.version)}") from exc
    return Assignment(adjuster=chosen, rule_id=rule.rule_id, rule_version=rules.version)
