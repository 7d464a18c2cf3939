"""Money helpers: decimal strings in, Decimal inside, two-place strings out."""

from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Decimal
from typing import Annotated

from pydantic import BeforeValidator, PlainSerializer

CENT = Decimal("0.01")
ZERO = Decimal("0.00")
_MONEY_RE = re.compile(r"^\d{1,12}(\.\d{1,2})?$")


def parse_money(value: object) -> Decimal:
    """Parse a non-negative decimal string such as "45.00"; floats and ints are refused."""
    if isinstance(value, Decimal):
        return value.quantize(CENT)
    if not isinstance(value, str):
        raise ValueError('money must be a decimal string such as "45.00", never a number')
    if not _MONEY_RE.match(value):
        raise ValueError('money must be a non-negative decimal string with at most 2 places, such as "45.00"')
    return Decimal(value).quantize(CENT)


def cents(value: Decimal) -> Decimal:
    """Round to cents, half up."""
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def format_money(value: Decimal) -> str:
    """Render as a two-place decimal string."""
    return str(cents(value))


#: A money field: accepts only decimal strings, serialises back to "45.00".
Money = Annotated[Decimal, BeforeValidator(parse_money), PlainSerializer(format_money, return_type=str)]
