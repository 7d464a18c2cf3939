"""Queue priority on a table of claims: breach, amount, age, due time and risk."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from domain.priority import Priority, PriorityFacts, breached, priority_of

NOW = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)


def facts(
    amount: str = "100.00", age_days: float = 1, due_in_hours: float | None = 40, risk: int | None = None
) -> PriorityFacts:
    return PriorityFacts(
        amount=Decimal(amount),
        received_at=NOW - timedelta(days=age_days),
        review_due_at=None if due_in_hours is None else NOW + timedelta(hours=due_in_hours),
        risk_score=risk,
    )


@pytest.mark.parametrize(
    ("case", "expected"),
    [
        (facts(), Priority.LOW),
        (facts(due_in_hours=None), Priority.LOW),  # waiting for information: no due time
        (facts(due_in_hours=0), Priority.URGENT),  # due now: breached
        (facts(due_in_hours=-1, amount="1.00"), Priority.URGENT),
        (facts(amount="1000.00"), Priority.NORMAL),
        (facts(amount="10000.00"), Priority.HIGH),
        (facts(age_days=14), Priority.NORMAL),
        (facts(age_days=30), Priority.HIGH),
        (facts(due_in_hours=24), Priority.NORMAL),
        (facts(due_in_hours=8), Priority.HIGH),
        (facts(risk=50), Priority.NORMAL),
        (facts(risk=49), Priority.LOW),
        (facts(amount="10000.00", age_days=30), Priority.URGENT),
        (facts(amount="1000.00", due_in_hours=8, risk=80), Priority.URGENT),
        (facts(amount="1000.00", risk=80), Priority.HIGH),
    ],
    ids=lambda value: str(value) if isinstance(value, Priority) else "",
)
def test_priority_of_a_claim(case: PriorityFacts, expected: Priority) -> None:
    assert priority_of(case, NOW) is expected


def test_ranks_order_urgent_first() -> None:
    assert sorted(Priority, key=lambda p: p.rank) == [Priority.URGENT, Priority.HIGH, Priority.NORMAL, Priority.LOW]


def test_breached_only_once_the_due_time_has_come() -> None:
    assert breached(NOW, NOW) and breached(NOW - timedelta(seconds=1), NOW)
    assert not breached(NOW + timedelta(seconds=1), NOW) and not breached(None, NOW)
