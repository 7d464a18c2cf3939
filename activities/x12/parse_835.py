"""Read an 835 remittance (005010X221A1): the payment, each claim and line with its adjustments, PLB apart, balances checked."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from activities.x12.models import (
    BalanceFinding,
    BalanceRule,
    ClaimPayment,
    Payment,
    ProviderAdjustment,
    Remittance,
    RemittanceAdjustment,
    ServiceLinePayment,
)
from activities.x12.reader import Segment, TransactionSet, X12SyntaxError, reading, transaction_sets
from domain.money import total

#: A CAS segment carries up to six adjustments: (reason, amount, quantity) at elements 2-4, 5-7, … 17-19.
_CAS_TRIPLETS = range(2, 20, 3)
#: A PLB segment carries up to six (reason:reference, amount) pairs at elements 3-4, … 13-14.
_PLB_PAIRS = range(3, 15, 2)


def parse_835(text: str) -> list[Remittance]:
    """Every 835 transaction set of an interchange, one remittance each."""
    return [_remittance(transaction) for transaction in transaction_sets(text, "835")]


def adjustments(segment: Segment) -> list[RemittanceAdjustment]:
    """The adjustments of one CAS segment, all under its group code."""
    found: list[RemittanceAdjustment] = []
    for at in _CAS_TRIPLETS:
        if not segment[at]:
            continue
        with reading(segment):
            found.append(
                RemittanceAdjustment(
                    group=segment[1],  # validated into GroupCode by the model
                    reason_code=segment[at],
                    amount=segment.amount(at + 1),
                    quantity=segment.decimal(at + 2),
                )
            )
    if not found:
        raise X12SyntaxError(f"{segment.where()}: the adjustment has no reason code (CAS02)")
    return found


def provider_adjustments(segment: Segment) -> list[ProviderAdjustment]:
    """The adjustments of one PLB segment."""
    found: list[ProviderAdjustment] = []
    for at in _PLB_PAIRS:
        if not segment[at]:
            continue
        with reading(segment):
            found.append(
                ProviderAdjustment(
                    provider_id=segment[1],
                    fiscal_period_date=segment.date(2),
                    reason_code=segment.component(at, 1),
                    reference=segment.component(at, 2),
                    amount=segment.amount(at + 1),
                )
            )
    return found


def _adjusted(adjustments: list[RemittanceAdjustment]) -> Decimal:
    return total([adjustment.amount for adjustment in adjustments])


class _Claim:
    """The claim being read (CLP and what follows it) until the next claim or the summary."""

    def __init__(self, clp: Segment) -> None:
        self.clp = clp
        self.adjustments: list[RemittanceAdjustment] = []
        self.remark_codes: list[str] = []
        self.lines: list[dict[str, Any]] = []

    def add(self, segment: Segment) -> None:
        line = self.lines[-1] if self.lines else None
        match segment.tag, segment[1]:
            case "SVC", _:
                procedure = segment.components(1)
                if len(procedure) < 2:
                    raise X12SyntaxError(f"{segment.where()}: element 1 has no procedure code")
                self.lines.append(
                    {
                        "procedure_qualifier": procedure[0],
                        "procedure_code": procedure[1],
                        "modifiers": [m for m in procedure[2:6] if m],
                        "billed": segment.amount(2),
                        "paid": segment.amount(3),
                        "revenue_code": segment[4],
                        "units": segment.decimal(5) or Decimal(1),
                        "adjustments": [],
                        "remark_codes": [],
                        "position": segment.position,
                        "start": segment,
                    }
                )
            case "CAS", _:
                (line["adjustments"] if line is not None else self.adjustments).extend(adjustments(segment))
            case "MOA" | "MIA", _ if line is None:
                first = 3 if segment.tag == "MOA" else 20
                self.remark_codes.extend(segment[i] for i in range(first, first + 5) if segment[i])
            case "DTM", "472" if line is not None:
                line["service_date"] = segment.date(2)
            case "REF", "6R" if line is not None:
                line["line_control_number"] = segment[2]
            case "AMT", "B6" if line is not None:
                line["allowed"] = segment.amount(2)
            case "LQ", "HE" if line is not None:
                line["remark_codes"].append(segment[2])
            case _:
                pass

    def build(self, findings: list[BalanceFinding]) -> ClaimPayment:
        lines: list[ServiceLinePayment] = []
        for fields in self.lines:
            start: Segment = fields.pop("start")
            with reading(start):
                line = ServiceLinePayment(**fields)
            computed = line.billed - _adjusted(line.adjustments)
            if computed != line.paid:
                findings.append(
                    BalanceFinding(rule=BalanceRule.LINE, position=start.position, stated=line.paid, computed=computed)
                )
            lines.append(line)
        clp = self.clp
        with reading(clp):
            claim = ClaimPayment(
                patient_control_number=clp[1],
                status=clp[2],  # validated into ClaimPaymentStatus by the model
                billed=clp.amount(3),
                paid=clp.amount(4),
                patient_responsibility=clp.amount(5),
                filing_indicator=clp[6],
                payer_claim_id=clp[7],
                facility_code=clp[8],
                frequency_code=clp[9],
                adjustments=self.adjustments,
                remark_codes=self.remark_codes,
                lines=lines,
                position=clp.position,
            )
        computed = claim.billed - _adjusted(claim.adjustments) - total([_adjusted(line.adjustments) for line in lines])
        if computed != claim.paid:
            findings.append(
                BalanceFinding(rule=BalanceRule.CLAIM, position=clp.position, stated=claim.paid, computed=computed)
            )
        return claim


def _remittance(transaction: TransactionSet) -> Remittance:
    header: dict[str, Any] = {"control_number": transaction.control_number}
    payment: dict[str, Any] = {}
    bpr: Segment | None = None
    claims: list[ClaimPayment] = []
    plb: list[ProviderAdjustment] = []
    findings: list[BalanceFinding] = []
    claim: _Claim | None = None
    for segment in transaction.segments:
        if segment.tag in ("CLP", "LX", "PLB", "SE") and claim is not None:
            claims.append(claim.build(findings))
            claim = None
        match segment.tag, segment[1]:
            case "BPR", _:
                bpr = segment
                payment.update(
                    handling_code=segment[1],
                    amount=segment.amount(2),
                    credit_debit=segment[3],
                    method=segment[4],
                    date=segment.date(16),
                )
            case "TRN", _ if claim is None:
                payment.update(trace_number=segment[2], payer_identifier=segment[3])
            case "DTM", "405" if claim is None:
                header["production_date"] = segment.date(2)
            case "N1", "PR":
                header["payer_name"] = segment[2]
            case "N1", "PE":
                header["payee_name"] = segment[2]
                header["payee_npi"] = segment[4] if segment[3] == "XX" else ""
            case "REF", "2U" if claim is None:
                header["payer_id"] = segment[2]
            case "CLP", _:
                claim = _Claim(segment)
            case "PLB", _:
                plb.extend(provider_adjustments(segment))
            case _ if claim is not None:
                claim.add(segment)
            case _:
                pass
    if bpr is None:
        raise X12SyntaxError(f"{transaction.segments[0].where()}: the 835 has no payment (BPR)")
    if "trace_number" not in payment:
        raise X12SyntaxError(f"{transaction.segments[0].where()}: the 835 has no check or EFT trace number (TRN)")
    with reading(bpr):
        paid = Payment(**payment)
    computed = total([c.paid for c in claims]) - total([a.amount for a in plb])
    if computed != paid.amount:
        findings.append(
            BalanceFinding(rule=BalanceRule.PAYMENT, position=bpr.position, stated=paid.amount, computed=computed)
        )
    with reading(transaction.segments[0]):
        return Remittance(**header, payment=paid, claims=claims, provider_adjustments=plb, findings=findings)
