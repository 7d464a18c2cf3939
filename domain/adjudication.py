"""Processor answers: 277 status categories and 835-style line adjudication."""

from __future__ import annotations

import re
from decimal import Decimal
from enum import StrEnum
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints

from domain.money import Money, SignedMoney, total


class GroupCode(StrEnum):
    """835 claim adjustment group codes."""

    CONTRACTUAL = "CO"
    PATIENT_RESPONSIBILITY = "PR"
    OTHER = "OA"
    PAYER_INITIATED = "PI"


#: A Remittance Advice Remark Code: M, MA or N and a number (M15, MA01, N130).
RARC_SHAPE = re.compile(r"(?:MA|M|N)[0-9]{1,4}")


def _rarc(code: str) -> str:
    if not RARC_SHAPE.fullmatch(code):
        raise ValueError("must be a RARC remark code: M, MA or N and a number, e.g. N130, M15 or MA01")
    return code


#: A RARC remark code, checked for its shape (the code list itself is not shipped).
RemarkCode = Annotated[str, StringConstraints(strip_whitespace=True, to_upper=True), AfterValidator(_rarc)]


class Adjustment(BaseModel):
    """One CAS adjustment: who bears it, why (CARC), how much, and for how many units when the payer says."""

    model_config = ConfigDict(frozen=True)

    group_code: GroupCode
    reason_code: str
    amount: SignedMoney
    #: Units the adjustment covers (CAS04), when the payer gives them; left out of the JSON otherwise.
    quantity: Decimal | None = Field(default=None, exclude_if=lambda quantity: quantity is None)

    def negated(self) -> Adjustment:
        """The same adjustment backed out (a reversal's)."""
        return self.model_copy(
            update={"amount": -self.amount, "quantity": None if self.quantity is None else -self.quantity}
        )


def patient_share(adjustments: list[Adjustment]) -> Decimal:
    """What the patient owes of these adjustments: the PR group's amounts."""
    return total([a.amount for a in adjustments if a.group_code is GroupCode.PATIENT_RESPONSIBILITY])


class LineAdjudication(BaseModel):
    """What the payer (or an adjuster) decided for one service line."""

    model_config = ConfigDict(frozen=True)

    line_number: int
    billed: Money
    allowed: Money
    paid: Money
    adjustments: list[Adjustment] = []
    remark_codes: list[str] = []

    @property
    def patient_responsibility(self) -> Decimal:
        """What the patient owes on this line: its PR adjustments (deductible, coinsurance, copay, …)."""
        return patient_share(self.adjustments)


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
