"""Eligibility shapes: the inquiry is the domain's (domain/eligibility.py); the answer adds `active` for clients."""

from __future__ import annotations

from decimal import Decimal

from pydantic import BaseModel

from domain.eligibility import Coverage, DemographicField, EligibilityInquiry, EligibilityResult
from domain.money import Money

__all__ = ["EligibilityInquiry", "EligibilityRead"]


class EligibilityRead(BaseModel):
    """The payer's answer. Amounts are null when the payer did not report them (and always when not active);
    `mismatches` names the fields of the inquiry the payer's record disagrees with, never the payer's values."""

    active: bool
    coverage: Coverage
    plan: str | None
    copay: Money | None
    coinsurance_percent: Decimal | None
    deductible: Money | None
    deductible_remaining: Money | None
    out_of_pocket_remaining: Money | None
    in_network: bool | None
    prior_authorization_required: bool | None
    mismatches: list[DemographicField]

    @classmethod
    def of(cls, result: EligibilityResult) -> EligibilityRead:
        return cls(active=result.active, **result.model_dump())
