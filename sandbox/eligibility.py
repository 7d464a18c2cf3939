"""270/271-like eligibility answers, driven by a table of member id prefixes."""

from __future__ import annotations

from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Any

from sandbox.models import EligibilityRequest
from sandbox.money import ZERO, format_money


@dataclass(frozen=True)
class Coverage:
    """The benefits the sandbox payer reports for a member."""

    active: bool = True
    plan: str = "Sandbox PPO Gold"
    copay: Decimal = Decimal("10.00")
    coinsurance_percent: int = 20
    deductible: Decimal = Decimal("500.00")
    deductible_remaining: Decimal = Decimal("125.00")
    out_of_pocket_remaining: Decimal = Decimal("2000.00")
    in_network: bool = True
    prior_authorization_required: bool = False
    mismatches: tuple[str, ...] = ()


STANDARD = Coverage()

#: Eligibility table, matched in order against the member id (case-insensitive prefix).
ELIGIBILITY_RULES: tuple[tuple[str, str, Coverage], ...] = (
    (
        "INACTIVE",
        "coverage inactive: active false, no benefits",
        Coverage(
            active=False,
            plan="",
            copay=ZERO,
            coinsurance_percent=0,
            deductible=ZERO,
            deductible_remaining=ZERO,
            out_of_pocket_remaining=ZERO,
            in_network=False,
        ),
    ),
    (
        "NOPAY",
        "deductible not met at all (matches the NOPAY claim scenario)",
        replace(STANDARD, deductible_remaining=Decimal("500.00")),
    ),
    ("OON", "active but the provider is out of network", replace(STANDARD, in_network=False, coinsurance_percent=40)),
    (
        "PRIORAUTH",
        "active; the service needs prior authorization",
        replace(STANDARD, prior_authorization_required=True),
    ),
    (
        "MISMATCH",
        "active; the payer's last name and date of birth differ from the inquiry",
        replace(STANDARD, mismatches=("last_name", "date_of_birth")),
    ),
)


def coverage_for(member_id: str) -> Coverage:
    """The coverage a member id selects."""
    upper = member_id.upper()
    for prefix, _summary, coverage in ELIGIBILITY_RULES:
        if upper.startswith(prefix):
            return coverage
    return STANDARD


def answer(request: EligibilityRequest) -> dict[str, Any]:
    """The 271-like answer to an inquiry."""
    coverage = coverage_for(request.member_id)
    return {
        "active": coverage.active,
        "plan": coverage.plan,
        "copay": format_money(coverage.copay),
        "coinsurance_percent": coverage.coinsurance_percent,
        "deductible": format_money(coverage.deductible),
        "deductible_remaining": format_money(coverage.deductible_remaining),
        "out_of_pocket_remaining": format_money(coverage.out_of_pocket_remaining),
        "in_network": coverage.in_network,
        "prior_authorization_required": coverage.prior_authorization_required,
        "mismatches": list(coverage.mismatches),
    }


def member_on_file(coverage: Coverage, last_name: str, date_of_birth: str) -> tuple[str, str]:
    """The payer's record of the member's last name and date of birth (CCYYMMDD) for its 271: what the inquiry said,
    except where the scenario makes them differ (a last name on file with a suffix, a birth year one earlier)."""
    if "last_name" in coverage.mismatches:
        last_name = f"{last_name}-HALE"
    if "date_of_birth" in coverage.mismatches and len(date_of_birth) == 8 and date_of_birth.isdigit():
        month_day = "0228" if date_of_birth[4:] == "0229" else date_of_birth[4:]
        date_of_birth = f"{int(date_of_birth[:4]) - 1:04d}{month_day}"
    return last_name, date_of_birth
