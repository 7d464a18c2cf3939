"""Processor answers: 277 status categories and 835-style line adjudication."""

from __future__ import annotations

from decimal import Decimal
from enum import StrEnum

from pydantic import BaseModel, ConfigDict

from domain.money import Money, SignedMoney, total


class GroupCode(StrEnum):
    """835 claim adjustment group codes."""

    CONTRACTUAL = "CO"
    PATIENT_RESPONSIBILITY = "PR"
    OTHER = "OA"
    PAYER_INITIATED = "PI"


class Adjustment(BaseModel):
    """One CAS adjustment: who bears it, why (CARC), how much."""

    model_config = ConfigDict(frozen=True)

    group_code: GroupCode
    reason_code: str
    amount: SignedMoney


class LineAdjudication(BaseModel):
    """What the payer (or an adjuster) decided for one service line."""

    model_config = ConfigDict(frozen=True)

    line_number: int
    billed: Money
    allowed: Money
    paid: Money
    adjustments: list[Adjustment] = []
    remark_codes: list[str] = []


class Category(StrEnum):
    """X12 277 claim status category codes (abridged)."""

    RECEIVED = "A1"
    ACCEPTED = "A2"
    UNPROCESSABLE = "A3"
    NOT_FOUND = "A4"
    REJECTED_MISSING_INFO = "A6"
    REJECTED_INVALID_INFO = "A7"
    PENDING = "P1"
    PENDING_PAYER_REVIEW = "P2"
    PENDING_INFO_FROM_PROVIDER = "P3"
    PENDING_INFO_FROM_PATIENT = "P4"
    FINALIZED_PAID = "F1"
    FINALIZED_DENIED = "F2"
    FINALIZED_REVISED = "F3"
    FINALIZED_NO_PAYMENT = "F4"


REJECTED: frozenset[Category] = frozenset(
    {Category.UNPROCESSABLE, Category.NOT_FOUND, Category.REJECTED_MISSING_INFO, Category.REJECTED_INVALID_INFO}
)
#: Pending states that will not move without someone answering the payer.
NEEDS_INFORMATION: frozenset[Category] = frozenset(
    {Category.PENDING_INFO_FROM_PROVIDER, Category.PENDING_INFO_FROM_PATIENT}
)
FINALIZED: frozenset[Category] = frozenset(
    {Category.FINALIZED_PAID, Category.FINALIZED_DENIED, Category.FINALIZED_REVISED, Category.FINALIZED_NO_PAYMENT}
)


class ProcessorStatus(BaseModel):
    """One status answer from the claims processor (a 277, with 835 lines when final)."""

    model_config = ConfigDict(frozen=True)

    payer_claim_id: str
    category: Category
    status_code: str = ""
    message: str = ""
    lines: list[LineAdjudication] = []

    @property
    def settled(self) -> bool:
        """The processor will say nothing more on its own: finalized, rejected or stuck on information."""
        return self.category in FINALIZED or self.category in REJECTED or self.category in NEEDS_INFORMATION

    @property
    def paid_total(self) -> Decimal:
        return total([line.paid for line in self.lines])
