"""Routing: which processor answers the engine settles alone and which need an adjuster."""

from __future__ import annotations

from decimal import Decimal
from enum import StrEnum

from pydantic import BaseModel, ConfigDict

from domain.adjudication import Category, ProcessorStatus
from domain.status import ClaimStatus


class ReviewReason(StrEnum):
    """Why a claim needs a human."""

    DENIED_BY_PAYER = "denied_by_payer"
    PARTIALLY_PAID = "partially_paid"
    NOT_PAID = "not_paid"
    REJECTED_BY_PROCESSOR = "rejected_by_processor"
    INFORMATION_REQUESTED_BY_PAYER = "information_requested_by_payer"
    ABOVE_AUTO_APPROVAL_LIMIT = "above_auto_approval_limit"
    NO_ANSWER_BY_DEADLINE = "no_answer_by_deadline"
    COVERAGE_INACTIVE = "coverage_inactive"  # the payer's eligibility answer before submission: not covered
    RISK_SCREEN = "risk_screen"  # the risk score reached the threshold (before submission or auto-approval)


class Routing(BaseModel):
    """The next status for a settled processor answer, and why."""

    model_config = ConfigDict(frozen=True)

    status: ClaimStatus
    reason: str
    review_reason: ReviewReason | None = None


def route(answer: ProcessorStatus, total_charge: Decimal, auto_approve_limit: Decimal) -> Routing:
    """Decide what a settled processor answer means for the claim."""

    def review(why: ReviewReason) -> Routing:
        return Routing(status=ClaimStatus.IN_REVIEW, reason=why.value, review_reason=why)

    match answer.category:
        case (
            Category.UNPROCESSABLE
            | Category.NOT_FOUND
            | Category.REJECTED_MISSING_INFO
            | Category.REJECTED_INVALID_INFO
        ):
            return review(ReviewReason.REJECTED_BY_PROCESSOR)
        case Category.PENDING_INFO_FROM_PROVIDER | Category.PENDING_INFO_FROM_PATIENT:
            return review(ReviewReason.INFORMATION_REQUESTED_BY_PAYER)
        case Category.FINALIZED_DENIED:
            return review(ReviewReason.DENIED_BY_PAYER)
        case Category.FINALIZED_NO_PAYMENT:
            return review(ReviewReason.NOT_PAID)
        case Category.FINALIZED_PAID | Category.FINALIZED_REVISED:
            if answer.paid_total < total_charge:
                return review(ReviewReason.NOT_PAID if answer.paid_total == 0 else ReviewReason.PARTIALLY_PAID)
            if total_charge > auto_approve_limit:
                return review(ReviewReason.ABOVE_AUTO_APPROVAL_LIMIT)
            return Routing(status=ClaimStatus.APPROVED, reason="paid_in_full_by_payer")
        case Category.RECEIVED | Category.ACCEPTED | Category.PENDING | Category.PENDING_PAYER_REVIEW:
            return Routing(status=ClaimStatus.PENDING, reason=f"processor_{answer.category.value}")


def held_by_risk_screen() -> Routing:
    """A processor answer that would auto-approve the claim, held for an adjuster by its risk score."""
    return Routing(
        status=ClaimStatus.IN_REVIEW, reason=ReviewReason.RISK_SCREEN.value, review_reason=ReviewReason.RISK_SCREEN
    )


def statuses_toward(current: ClaimStatus, routing: Routing) -> list[ClaimStatus]:
    """The statuses a claim takes on the way to a processor answer's outcome.

    A claim still `submitted` when an answer settles it passes through `pending` first: the processor
    has adjudicated it, and every adjudicated claim's history shows that step.
    """
    if current is ClaimStatus.SUBMITTED and routing.status is not ClaimStatus.PENDING:
        return [ClaimStatus.PENDING, routing.status]
    return [routing.status]
