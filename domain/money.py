"""Money: non-negative decimal amounts with cents, never floats."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated

from pydantic import Field, PlainSerializer

CENT = Decimal("0.01")

#: A money amount as it arrives in a request or leaves in a response: a decimal
#: (a string in JSON), at most 10 digits before the point and 2 after, never
#: negative. Whether an amount must be *positive* is a validation rule, not shape.
Money = Annotated[
    Decimal,
    Field(ge=0, max_digits=12, decimal_places=2, allow_inf_nan=False),
    PlainSerializer(lambda v: f"{v:.2f}", return_type=str, when_used="json"),
]

#: A signed money amount (adjustments may be negative, e.g. a reversal).
SignedMoney = Annotated[
    Decimal,
    Field(max_digits=12, decimal_places=2, allow_inf_nan=False),
    PlainSerializer(lambda v: f"{v:.2f}", return_type=str, when_used="json"),
]


def total(amounts: list[Decimal]) -> Decimal:
    """Sum amounts exactly (Decimal, no float drift)."""
    return sum(amounts, Decimal("0.00"))
