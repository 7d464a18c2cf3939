"""How a claim is shown: its record and the workflow's live state, in the projection of the caller's role.

Minimum necessary (HIPAA §164.502(b)): each role sees the fields its work needs, the others are null.

| fields                                                                | submitter | adjuster, supervisor | admin |
|-----------------------------------------------------------------------|-----------|----------------------|-------|
| ids, org, status, history (status, time, reason, actor), amounts,     | yes       | yes                  | yes   |
| lines (codes, charges, units, dates, adjudication), diagnosis codes,  |           |                      |       |
| payer, providers, adjuster, payer claim id, payment, validation,      |           |                      |       |
| the remittance ledger (entries, line and claim totals, PLB apart)     |           |                      |       |
| a PLB adjustment's reference (may be a patient control number)        | yes       | yes                  | null  |
| history notes (decision, information, cancellation text)              | yes       | yes                  | null  |
| patient control number; patient initials, date of birth, sex,         | yes       | yes                  | null  |
| member id, relationship; insurance member id, group, plan             |           |                      |       |
| patient first and last name, address; the submitter's bill ids        | yes       | null                 | null  |

Validation issues reach every role; an admin's carry the rule's summary for a message (a rendered message may
quote the patient's date of birth, sex or member id).
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import assert_never

from api.schemas.claims import (
    ClaimDocumentRead,
    ClaimEligibilityRead,
    ClaimLedgerRead,
    ClaimLineRead,
    ClaimRead,
    ClaimSummaryRead,
    InsuranceRead,
    LedgerEntryRead,
    LineAdjudicationRead,
    PatientRead,
    PaymentRead,
    Projection,
    ProviderAdjustmentRead,
    RecommendationRead,
    StatusHistoryEntry,
)
from api.schemas.risk import RiskReasonRead
from db.records import ClaimEligibilityRecord
from domain.claim import Claim, Patient
from domain.decision import Recommendation
from domain.ledger import LedgerEntry, ProviderAdjustment, line_totals, totals
from domain.priority import Priority, PriorityFacts, priority_of
from domain.status import OPEN_WORK, ClaimStatus
from domain.validation import RULES, Severity, ValidationFinding, ValidationIssue, describe_all
from services.access import Principal, Role
from services.claims import ClaimSummary, ClaimView
from workflows.claim_contract import ClaimState, workflow_id


def projection_of(principal: Principal) -> Projection:
    """The projection a role sees (the table above)."""
    match principal.role:
        case Role.SUBMITTER:
            return Projection.FULL
        case Role.ADJUSTER | Role.SUPERVISOR:
            return Projection.ADJUDICATION
        case Role.ADMIN:
            return Projection.OPERATIONS
        case _:
            assert_never(principal.role)


def initials(patient: Patient) -> str:
    return f"{patient.first_name[:1]}{patient.last_name[:1]}".upper()


def present_patient(patient: Patient, projection: Projection) -> PatientRead | None:
    if projection is Projection.OPERATIONS:
        return None
    full = projection is Projection.FULL
    return PatientRead(
        initials=initials(patient),
        first_name=patient.first_name if full else None,
        last_name=patient.last_name if full else None,
        date_of_birth=patient.date_of_birth,
        sex=patient.sex,
        member_id=patient.member_id,
        relationship_to_subscriber=patient.relationship_to_subscriber,
        address=patient.address if full else None,
    )


def present_document(claim: Claim, projection: Projection) -> ClaimDocumentRead:
    """The claim as submitted, in the projection."""
    operations = projection is Projection.OPERATIONS
    insurance = claim.insurance
    return ClaimDocumentRead(
        patient_control_number=None if operations else claim.patient_control_number,
        patient=present_patient(claim.patient, projection),
        insurance=InsuranceRead(
            payer_id=insurance.payer_id,
            member_id=None if operations else insurance.member_id,
            group_number=None if operations else insurance.group_number,
            plan=None if operations else insurance.plan,
        ),
        billing_provider=claim.billing_provider,
        rendering_provider=claim.rendering_provider,
        referring_provider=claim.referring_provider,
        diagnosis_codes=list(claim.diagnosis_codes),
        lines=list(claim.lines),
        total_charge=claim.total_charge,
        bill_ids=list(claim.bill_ids) if projection is Projection.FULL else None,
        frequency_code=claim.frequency_code,
        original_payer_claim_id=claim.original_payer_claim_id,
    )


#: Each rule's one-line catalogue description: a message that quotes nothing of the claim.
RULE_SUMMARIES = {rule.id: rule.summary for rule in RULES}


def without_claim_values(issues: list[ValidationIssue]) -> list[ValidationIssue]:
    """The issues with their rule's summary for a message: a rendered message may quote the patient's date of birth,
    sex or member id, which the operations projection does not show."""
    return [
        issue.model_copy(
            update={"message": RULE_SUMMARIES.get(issue.rule_id, f"the claim fails the edit {issue.rule_id}")}
        )
        for issue in issues
    ]


def present_eligibility(
    eligibility: ClaimEligibilityRecord | None, projection: Projection
) -> ClaimEligibilityRead | None:
    """The eligibility answer kept with the claim (its coverage and plan are the member's: not for admins)."""
    if eligibility is None or projection is Projection.OPERATIONS:
        return None
    return ClaimEligibilityRead(active=eligibility.active, **eligibility.model_dump())


def present_ledger(
    entries: list[LedgerEntry], provider_adjustments: list[ProviderAdjustment], projection: Projection
) -> ClaimLedgerRead | None:
    """The ledger's entries and what they add up to, the PLB adjustments apart (their reference may name a patient's
    account: not for admins); None before anything was posted."""
    if not entries:
        return None
    operations = projection is Projection.OPERATIONS
    return ClaimLedgerRead(
        entries=[LedgerEntryRead.model_validate(entry.model_dump()) for entry in entries],
        lines=line_totals(entries),
        totals=totals(entries),
        provider_adjustments=[
            ProviderAdjustmentRead.model_validate(plb.model_dump() | ({"reference": None} if operations else {}))
            for plb in provider_adjustments
        ],
    )


def present_summary(item: ClaimSummary, principal: Principal) -> ClaimSummaryRead:
    """A listing's row, in the caller's projection."""
    operations = projection_of(principal) is Projection.OPERATIONS
    return ClaimSummaryRead.model_validate(item.model_dump() | ({"patient_control_number": None} if operations else {}))


def present(view: ClaimView, principal: Principal) -> ClaimRead:
    """The record, with the live state where it is newer, in the caller's projection; notes come from the record
    (merged by seq)."""
    projection = projection_of(principal)
    notes = projection is not Projection.OPERATIONS
    record, live = view.record, view.live
    adjudication = {
        a.line_number: a for a in (live.adjudication if live and live.adjudication else record.adjudication)
    }
    lines = [
        ClaimLineRead(
            line_number=n,
            line_control_number=line.line_control_number,
            procedure_code=line.procedure_code,
            modifiers=list(line.modifiers),
            charge=line.charge,
            units=line.units,
            service_date=line.service_date,
            adjudication=(
                LineAdjudicationRead(
                    billed=adjudication[n].billed,
                    allowed=adjudication[n].allowed,
                    paid=adjudication[n].paid,
                    adjustments=adjudication[n].adjustments,
                    remark_codes=adjudication[n].remark_codes,
                )
                if n in adjudication
                else None
            ),
        )
        for n, line in enumerate(record.claim.lines, start=1)
    ]
    # The live history may be ahead of the record; the notes are only in the record.
    recorded = {h.seq: h for h in record.status_history}
    if live is not None and len(live.status_history) >= len(record.status_history):
        history = [
            StatusHistoryEntry(
                status=h.status,
                at=h.at,
                reason=h.reason,
                actor=h.actor,
                note=recorded[h.seq].note if notes and h.seq in recorded else None,
                note_kind=recorded[h.seq].note_kind if h.seq in recorded else None,
            )
            for h in live.status_history
        ]
        status = live.status
    else:
        history = [
            StatusHistoryEntry(
                status=h.status,
                at=h.at,
                reason=h.reason,
                actor=h.actor,
                note=h.note if notes else None,
                note_kind=h.note_kind,
            )
            for h in record.status_history
        ]
        status = record.status
    payment = (
        PaymentRead(payment_id=record.payment.payment_id, amount=record.payment.amount, paid_at=record.payment.paid_at)
        if record.payment
        else (
            PaymentRead(payment_id=live.payment_id, amount=live.paid_amount)
            if live and live.payment_id and live.paid_amount is not None
            else None
        )
    )
    # Findings (rule id, path, parameters) from the workflow or the record; their messages are read from the claim now.
    if live is not None:
        errors = describe_all(live.validation_errors, record.claim)
        warnings = describe_all(live.validation_warnings, record.claim)
    else:  # recorded findings carry their severity
        issues = describe_all([ValidationFinding.model_validate(i) for i in record.validation_errors], record.claim)
        errors = [i for i in issues if i.severity is Severity.ERROR]
        warnings = [i for i in issues if i.severity is Severity.WARNING]
    if projection is Projection.OPERATIONS:
        errors, warnings = without_claim_values(errors), without_claim_values(warnings)
    return ClaimRead(
        projection=projection,
        claim_id=record.claim_id,
        workflow_id=workflow_id(record.claim_id),
        org_id=record.org_id,
        status=status,
        status_history=history,
        patient_control_number=None if projection is Projection.OPERATIONS else record.patient_control_number,
        payer_id=record.payer_id,
        total_charge=record.total_charge,
        lines=lines,
        assigned_adjuster=(live.assigned_adjuster if live else None) or record.assigned_adjuster,
        assignment_rule=live.assignment_rule if live else None,
        review_due_at=live.review_due_at if live and status is ClaimStatus.IN_REVIEW else None,
        priority=priority_now(record.total_charge, record.created_at, live) if status in OPEN_WORK else None,
        information_requested=live.information_requested if live and status is ClaimStatus.INFO_REQUESTED else [],
        recommendation=present_recommendation(live.recommendation) if live and live.recommendation else None,
        payer_claim_id=(live.payer_claim_id if live else None) or record.payer_claim_id,
        validation_errors=errors,
        validation_warnings=warnings,
        review_reason=live.review_reason if live else None,
        risk_score=live.risk_score if live else None,
        risk_reasons=[RiskReasonRead.model_validate(reason.model_dump()) for reason in live.risk_reasons]
        if live
        else [],
        waiting_for=(live.waiting_for or None) if live else None,
        payment=payment,
        ledger=present_ledger(record.ledger, record.provider_adjustments, projection),
        replaces=view.lineage.replaces,
        replaced_by=view.lineage.replaced_by,
        voids=view.lineage.voids,
        voided_by=view.lineage.voided_by,
        eligibility=present_eligibility(record.eligibility, projection),
        created_at=record.created_at,
        updated_at=record.updated_at,
        claim=present_document(record.claim, projection),
    )


def priority_now(amount: Decimal, received_at: datetime, live: ClaimState | None) -> Priority:
    facts = PriorityFacts(
        amount=amount,
        received_at=received_at,
        review_due_at=live.review_due_at if live else None,
        risk_score=live.risk_score if live else None,
    )
    return priority_of(facts, datetime.now(UTC))


def present_recommendation(recommendation: Recommendation) -> RecommendationRead:
    return RecommendationRead(
        action=recommendation.decision.action,
        amount=recommendation.amount,
        recommended_by=recommendation.recommended_by,
    )
