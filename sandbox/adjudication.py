"""835-style line adjudication: applies a scenario's line rules to billed amounts."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import TypedDict

from sandbox.money import ZERO, cents, format_money
from sandbox.scenarios import LineRule, RemittanceExtras, Scenario


class AdjustmentOut(TypedDict):
    """One CAS adjustment as answered on the wire."""

    group_code: str
    reason_code: str
    amount: str


class LineOut(TypedDict):
    """One remittance line as answered on the wire (paid + adjustments == billed)."""

    line_number: int
    billed: str
    allowed: str
    paid: str
    adjustments: list[AdjustmentOut]
    remark_codes: list[str]


def adjudicate_line(line_number: int, billed: Decimal, rule: LineRule) -> LineOut:
    """Adjudicate one line; whatever is not paid becomes one adjustment under the rule's group and reason."""
    paid = cents(billed * rule.paid_percent / Decimal(100))
    rest = billed - paid
    adjustments: list[AdjustmentOut] = []
    if rest != ZERO:
        if rule.group_code is None or rule.reason_code is None:
            raise ValueError("a rule that does not pay in full needs a group and reason code")
        adjustments.append(
            {"group_code": rule.group_code, "reason_code": rule.reason_code, "amount": format_money(rest)}
        )
    # The allowed amount is what remains after contractual/payer/other reductions; patient
    # responsibility (PR) is part of the allowed amount.
    allowed = billed - (rest if rule.group_code != "PR" else ZERO)
    return {
        "line_number": line_number,
        "billed": format_money(billed),
        "allowed": format_money(allowed),
        "paid": format_money(paid),
        "adjustments": adjustments,
        "remark_codes": list(rule.remark_codes) if adjustments else [],
    }


def adjudicate(scenario: Scenario, lines: Sequence[tuple[int, Decimal]]) -> list[LineOut]:
    """Adjudicate every (line_number, billed) pair: the first line by scenario.first_line, the rest by other_lines."""
    return [
        adjudicate_line(number, billed, scenario.first_line if index == 0 else scenario.other_lines)
        for index, (number, billed) in enumerate(lines)
    ]


@dataclass(frozen=True)
class ClaimLevelAdjustment:
    """A CAS at claim level (after the CLP): taken from what the lines paid."""

    group_code: str
    reason_code: str
    amount: Decimal


@dataclass(frozen=True)
class ProviderLevelAdjustment:
    """A PLB adjustment: its reason, what it refers to, its amount (positive reduces the payment)."""

    reason_code: str
    reference: str
    amount: Decimal


def claim_level_adjustment(extras: RemittanceExtras, lines_paid: Decimal) -> ClaimLevelAdjustment | None:
    """The scenario's claim-level adjustment of a claim whose lines paid `lines_paid`; None when it comes to 0."""
    amount = cents(lines_paid * extras.claim_percent / Decimal(100))
    if amount == ZERO:
        return None
    return ClaimLevelAdjustment(extras.claim_group_code, extras.claim_reason_code, amount)
