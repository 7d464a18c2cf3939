"""Money and count rules: positive charges in cents, positive units, a total that adds up."""

from __future__ import annotations

from collections.abc import Iterator

from domain.money import CENT, total
from domain.validation.issues import Severity
from domain.validation.registry import Finding, MessageContext, Rule, RuleContext


def charge_positive(ctx: RuleContext) -> Iterator[Finding]:
    for i, line in enumerate(ctx.claim.lines):
        if line.charge <= 0:
            yield f"lines[{i}].charge", {}


def charge_cents(ctx: RuleContext) -> Iterator[Finding]:
    # Parsing already refuses a third decimal; this guards claims built without parsing.
    for i, line in enumerate(ctx.claim.lines):
        if line.charge % CENT:
            yield f"lines[{i}].charge", {}


def units_positive(ctx: RuleContext) -> Iterator[Finding]:
    for i, line in enumerate(ctx.claim.lines):
        if line.units <= 0:
            yield f"lines[{i}].units", {}


def total_matches(ctx: RuleContext) -> Iterator[Finding]:
    claim = ctx.claim
    expected = total([line.charge for line in claim.lines])
    if claim.total_charge != expected:
        yield "total_charge", {"expected": str(expected)}


def _total_message(m: MessageContext) -> str:
    expected = m.params.get("expected", "the sum of the line charges")
    return (
        f"total_charge {m.text} differs from the sum of the line charges, {expected}; "
        f"send {expected} or correct the line charges"
    )


RULES = (
    Rule(
        "charge.positive",
        Severity.ERROR,
        "lines[].charge",
        "each line charge is above 0.00",
        charge_positive,
        lambda m: f"the charge is {m.text}; bill a charge above 0.00, or remove the line",
    ),
    Rule(
        "charge.cents",
        Severity.ERROR,
        "lines[].charge",
        "each line charge has at most 2 decimals",
        charge_cents,
        lambda m: f"the charge {m.text} has more than 2 decimals; round it to cents",
    ),
    Rule(
        "units.positive",
        Severity.ERROR,
        "lines[].units",
        "each line bills at least 1 unit",
        units_positive,
        lambda m: f"units are {m.text}; bill at least 1 unit, or remove the line",
    ),
    Rule(
        "total_charge.sum",
        Severity.ERROR,
        "total_charge",
        "the total equals the sum of the lines",
        total_matches,
        _total_message,
    ),
)
