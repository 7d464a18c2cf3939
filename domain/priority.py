"""The priority of a claim in an adjuster's queue, from its amount, age, review due time and risk score."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from enum import StrEnum

from pydantic import BaseModel, ConfigDict


class Priority(StrEnum):
    URGENT = "urgent"
    HIGH = "high"
    NORMAL = "normal"
    LOW = "low"

    @property
    def rank(self) -> int:
        """0 for urgent … 3 for low: a queue sorts on it first."""
        return list(Priority).index(self)


#: Amounts from which a claim weighs more (a large payment waiting is money and interest owed).
LARGE_AMOUNT = Decimal("10000.00")
MEDIUM_AMOUNT = Decimal("1000.00")
#: Ages since receipt that weigh more: state prompt-pay laws commonly require payment within 30-45 days.
OLD = timedelta(days=30)
AGEING = timedelta(days=14)
#: Review due within these: the SLA is close.
DUE_SOON = timedelta(hours=8)
DUE_TODAY = timedelta(hours=24)
#: A risk score (0-100) from which the screen's findings raise the priority.
RISKY = 50


class PriorityFacts(BaseModel):
    """What a claim's priority is computed from (no PHI)."""

    model_config = ConfigDict(frozen=True)

    amount: Decimal
    received_at: datetime
    review_due_at: datetime | None = None
    risk_score: int | None = None


def priority_of(facts: PriorityFacts, now: datetime) -> Priority:
    """Urgent once the review SLA is breached; otherwise points — amount (1-2), age since receipt (1-2), review due
    within 24 h / 8 h (1-2), a risk score of 50 or more (1) — make urgent (4+), high (2-3), normal (1) or low (0)."""
    due = facts.review_due_at
    if due is not None and due <= now:
        return Priority.URGENT
    points = 0
    points += 2 if facts.amount >= LARGE_AMOUNT else 1 if facts.amount >= MEDIUM_AMOUNT else 0
    age = now - facts.received_at
    points += 2 if age >= OLD else 1 if age >= AGEING else 0
    if due is not None:
        points += 2 if due - now <= DUE_SOON else 1 if due - now <= DUE_TODAY else 0
    if facts.risk_score is not None and facts.risk_score >= RISKY:
        points += 1
    if points >= 4:
        return Priority.URGENT
    if points >= 2:
        return Priority.HIGH
    return Priority.NORMAL if points == 1 else Priority.LOW


def breached(review_due_at: datetime | None, now: datetime) -> bool:
    """Whether the review SLA has passed."""
    return review_due_at is not None and review_due_at <= now
