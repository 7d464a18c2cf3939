"""How a claim is shown: its record and the workflow's live state combined into the API's ClaimRead."""

from __future__ import annotations

from api.schemas.claims import ClaimLineRead, ClaimRead, LineAdjudicationRead, PaymentRead, StatusHistoryEntry
from domain.validation import Severity, ValidationIssue
from services.claims import ClaimView
from workflows.claim_contract import workflow_id


def present(view: ClaimView) -> ClaimRead:
    """The record, with the live state where it is newer; notes come from the record (merged by seq)."""
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
                note=recorded[h.seq].note if h.seq in recorded else None,
                note_kind=recorded[h.seq].note_kind if h.seq in recorded else None,
            )
            for h in live.status_history
        ]
        status = live.status
    else:
        history = [
            StatusHistoryEntry(
                status=h.status, at=h.at, reason=h.reason, actor=h.actor, note=h.note, note_kind=h.note_kind
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
    if live is not None:
        errors, warnings = live.validation_errors, live.validation_warnings
    else:  # recorded issues carry their severity
        issues = [ValidationIssue.model_validate(issue) for issue in record.validation_errors]
        errors = [i for i in issues if i.severity is Severity.ERROR]
        warnings = [i for i in issues if i.severity is Severity.WARNING]
    return ClaimRead(
        claim_id=record.claim_id,
        workflow_id=workflow_id(record.claim_id),
        org_id=record.org_id,
        status=status,
        status_history=history,
        patient_control_number=record.patient_control_number,
        payer_id=record.payer_id,
        total_charge=record.total_charge,
        lines=lines,
        assigned_adjuster=(live.assigned_adjuster if live else None) or record.assigned_adjuster,
        payer_claim_id=(live.payer_claim_id if live else None) or record.payer_claim_id,
        validation_errors=errors,
        validation_warnings=warnings,
        review_reason=live.review_reason if live else None,
        waiting_for=(live.waiting_for or None) if live else None,
        payment=payment,
        created_at=record.created_at,
        updated_at=record.updated_at,
        claim=record.claim,
    )
