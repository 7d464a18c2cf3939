"""An 835 remittance as the ledger's payment answers (one per claim payment) and provider-level adjustments: pure.

The X12 path posts through the same rules as the JSON one (domain.ledger.post). Each claim payment's answer id is
stable for that remittance (payer, check/EFT trace number, payer claim id, CLP02), so the same 835 read twice
posts nothing new, and a reversal (CLP02 = 22, its amounts negative) becomes a reversal answer that the ledger
posts negated again.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, time
from decimal import Decimal

from pydantic import BaseModel, ConfigDict, Field

from activities.x12.models import ClaimPayment, Remittance, RemittanceAdjustment, ServiceLinePayment
from domain.adjudication import Adjustment, GroupCode, LineAdjudication
from domain.ledger import LedgerSource, PaymentAnswer, ProviderAdjustment, remittance_answer_key, remittance_key
from domain.money import total

#: Adjustments that take an amount out of what the payer allows (PR is the patient's share of the allowed amount).
_NOT_ALLOWED = frozenset({GroupCode.CONTRACTUAL, GroupCode.OTHER, GroupCode.PAYER_INITIATED})


class ClaimRemittance(BaseModel):
    """One claim payment of an 835, as the ledger's answer, with what finds the claim it belongs to."""

    model_config = ConfigDict(frozen=True)

    patient_control_number: str = Field(repr=False)
    payer_claim_id: str
    answer: PaymentAnswer


class RemittancePosting(BaseModel):
    """What an 835 posts: an answer per claim payment, and the provider-level adjustments kept apart."""

    model_config = ConfigDict(frozen=True)

    claims: list[ClaimRemittance]
    provider_adjustments: list[ProviderAdjustment]


def remittance_id(remittance: Remittance) -> str:
    """The remittance's stable id: the payer's identifier and the check or EFT trace number (TRN03, TRN02)."""
    payment = remittance.payment
    return remittance_key(payment.payer_identifier or remittance.payer_id, payment.trace_number)


def posting(
    remittance: Remittance, line_numbers: Mapping[str, Mapping[str, int]] | None = None, *, at: datetime | None = None
) -> RemittancePosting:
    """Every claim payment of the remittance as an answer, and its PLB adjustments.

    `line_numbers`: per payer claim id, the claim's line number of each line control number (REF*6R); a line
    without one (or a claim not named) takes its position. `at`: when the answers were received (default: the
    835's production date, else its payment date, at midnight UTC).
    """
    when = at
    if when is None:
        day = remittance.production_date or remittance.payment.date
        when = datetime.combine(day, time(), tzinfo=UTC) if day else datetime.now(UTC)
    numbers = line_numbers or {}
    return RemittancePosting(
        claims=[
            ClaimRemittance(
                patient_control_number=claim.patient_control_number,
                payer_claim_id=claim.payer_claim_id,
                answer=payment_answer(remittance, claim, numbers.get(claim.payer_claim_id, {}), at=when),
            )
            for claim in remittance.claims
        ],
        provider_adjustments=provider_adjustments(remittance),
    )


def payment_answer(
    remittance: Remittance, claim: ClaimPayment, line_numbers: Mapping[str, int], *, at: datetime
) -> PaymentAnswer:
    """One claim payment (CLP and its lines) as the ledger's answer; a reversal's amounts turned back positive."""
    sign = Decimal(-1) if claim.reversal else Decimal(1)
    who = claim.payer_claim_id or f"@{claim.position}"
    return PaymentAnswer.model_validate(
        {
            "remittance_id": remittance_answer_key(remittance_id(remittance), who, claim.status.value),
            "source": LedgerSource.REMITTANCE,
            "at": at,
            "payer_claim_id": claim.payer_claim_id,
            "reversal": claim.reversal,
            "lines": [
                _line(line, line_numbers.get(line.line_control_number, index), sign, claim.remark_codes)
                for index, line in enumerate(claim.lines, start=1)
            ],
            "claim_adjustments": _adjustments(claim.adjustments, sign),
            "claim_remark_codes": [] if claim.lines else list(claim.remark_codes),
            "claim_billed": sign * claim.billed,
            "claim_paid": sign * claim.paid,
            "claim_patient_responsibility": sign * claim.patient_responsibility,
        }
    )


def _adjustments(adjustments: list[RemittanceAdjustment], sign: Decimal) -> list[Adjustment]:
    return [
        Adjustment(
            group_code=a.group,
            reason_code=a.reason_code,
            amount=sign * a.amount,
            quantity=None if a.quantity is None else sign * a.quantity,
        )
        for a in adjustments
    ]


def _line(line: ServiceLinePayment, number: int, sign: Decimal, claim_remarks: list[str]) -> LineAdjudication:
    """A service line (SVC): allowed from AMT*B6, else billed less what is not allowed; the claim's MOA remarks
    explain each of its lines."""
    adjustments = _adjustments(line.adjustments, sign)
    billed = sign * line.billed
    not_allowed = total([a.amount for a in adjustments if a.group_code in _NOT_ALLOWED])
    return LineAdjudication(
        line_number=number,
        billed=billed,
        allowed=sign * line.allowed if line.allowed is not None else billed - not_allowed,
        paid=sign * line.paid,
        adjustments=adjustments,
        remark_codes=list(dict.fromkeys([*line.remark_codes, *claim_remarks])),
    )


def provider_adjustments(remittance: Remittance) -> list[ProviderAdjustment]:
    """The PLB adjustments, numbered in the order the 835 lists them."""
    return [
        ProviderAdjustment(
            remittance_id=remittance_id(remittance),
            position=position,
            payer_id=remittance.payer_id,
            provider_id=plb.provider_id,
            fiscal_period_date=plb.fiscal_period_date,
            reason_code=plb.reason_code,
            reference=plb.reference,
            amount=plb.amount,
        )
        for position, plb in enumerate(remittance.provider_adjustments, start=1)
    ]
