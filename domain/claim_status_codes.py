"""X12 277 claim status category codes (code list 507) and the processor status each means for claimflow."""

from __future__ import annotations

from types import MappingProxyType
from typing import NamedTuple

from domain.adjudication import Category
from domain.errors import DomainError

C = Category


class CategoryCode(NamedTuple):
    """What a 277 category code says, and the processor status claimflow reads from it (None: nothing yet)."""

    description: str
    processor_status: Category | None


#: Every category code a 277CA or 277 (005010X212/X214) may carry. Codes about the status *request*
#: (E0-E4: the payer could not answer now) say nothing about the claim: None, the claim keeps waiting.
#: F0 (finalized, no detail) goes to FINALIZED_PAID so the amounts paid decide the route (paid in full,
#: partly or not at all); R codes are the payer asking the provider for more: information requested.
CATEGORY_CODES: MappingProxyType[str, CategoryCode] = MappingProxyType(
    {
        "A0": CategoryCode("Acknowledgement/Forwarded: the claim was forwarded to another entity", C.RECEIVED),
        "A1": CategoryCode("Acknowledgement/Receipt: the claim was received", C.RECEIVED),
        "A2": CategoryCode("Acknowledgement/Acceptance into adjudication system", C.ACCEPTED),
        "A3": CategoryCode("Acknowledgement/Returned as unprocessable claim", C.UNPROCESSABLE),
        "A4": CategoryCode("Acknowledgement/Not Found", C.NOT_FOUND),
        "A5": CategoryCode("Acknowledgement/Split Claim", C.ACCEPTED),
        "A6": CategoryCode("Acknowledgement/Rejected for Missing Information", C.REJECTED_MISSING_INFO),
        "A7": CategoryCode("Acknowledgement/Rejected for Invalid Information", C.REJECTED_INVALID_INFO),
        "A8": CategoryCode("Acknowledgement/Rejected for relational field in error", C.REJECTED_INVALID_INFO),
        "D0": CategoryCode("Data Search Unsuccessful", C.NOT_FOUND),
        "E0": CategoryCode("Response not possible: error on submitted request data", None),
        "E1": CategoryCode("Response not possible: system status", None),
        "E2": CategoryCode("Information Holder is not responding; resubmit at a later time", None),
        "E3": CategoryCode("Correction required: relational fields in error", None),
        "E4": CategoryCode("Trading partner agreement specific requirement not met", None),
        "F0": CategoryCode("Finalized: the claim has completed the adjudication cycle", C.FINALIZED_PAID),
        "F1": CategoryCode("Finalized/Payment: the claim was processed and paid", C.FINALIZED_PAID),
        "F2": CategoryCode("Finalized/Denial: the claim was denied", C.FINALIZED_DENIED),
        "F3": CategoryCode("Finalized/Revised: adjudication information has been changed", C.FINALIZED_REVISED),
        "F3F": CategoryCode("Finalized/Forwarded: processed and forwarded to another payer", C.FINALIZED_REVISED),
        "F3N": CategoryCode("Finalized/Not Forwarded: processed, not forwarded", C.FINALIZED_REVISED),
        "F4": CategoryCode("Finalized/Adjudication Complete: no payment forthcoming", C.FINALIZED_NO_PAYMENT),
        "P0": CategoryCode("Pending: adjudication/details", C.PENDING),
        "P1": CategoryCode("Pending/In Process", C.PENDING),
        "P2": CategoryCode("Pending/Payer Review", C.PENDING_PAYER_REVIEW),
        "P3": CategoryCode("Pending/Provider Requested Information", C.PENDING_INFO_FROM_PROVIDER),
        "P4": CategoryCode("Pending/Patient Requested Information", C.PENDING_INFO_FROM_PATIENT),
        "P5": CategoryCode("Pending/Payer Administrative/System hold", C.PENDING),
        **{
            f"R{n}": CategoryCode(f"Request for additional information (R{n})", C.PENDING_INFO_FROM_PROVIDER)
            for n in range(17)
        },
    }
)


class UnknownCategoryCodeError(DomainError):
    """A 277 category code outside code list 507."""

    code = "unknown_claim_status_category"


def processor_category(category_code: str) -> Category | None:
    """claimflow's processor status for a 277 category code; None when the code says nothing about the claim."""
    entry = CATEGORY_CODES.get(category_code.strip().upper())
    if entry is None:
        raise UnknownCategoryCodeError(
            f"claim status category code {category_code!r} is not in X12 code list 507 (A0-A8, D0, E0-E4, F0-F4, P0-P5, R0-R16)"
        )
    return entry.processor_status
