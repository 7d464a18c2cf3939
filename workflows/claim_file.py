"""What the Temporal UI shows of a claim as it moves: a claim file, not a stack trace."""

from __future__ import annotations

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from domain.status import ClaimStatus
    from workflows.claim_contract import ClaimState


def current_details(state: ClaimState) -> str:
    """The claim's current details in Markdown: status, what it waits for, payer, money, adjuster, errors."""
    rows = [f"**Status:** {state.status.value}"]
    if state.waiting_for:
        rows.append(f"**Waiting for:** {state.waiting_for}")
    if state.payer_id:
        rows.append(f"**Payer:** {state.payer_id}")
    if state.total_charge is not None:
        rows.append(f"**Billed:** {state.total_charge:.2f} on {len(state.lines)} line(s)")
    if state.payer_claim_id:
        rows.append(f"**Payer claim id:** {state.payer_claim_id}")
    if state.processor_category:
        code = f" (status {state.processor_status_code})" if state.processor_status_code else ""
        rows.append(f"**Processor says:** {state.processor_category.value}{code}")
    if state.next_poll_at:
        rows.append(f"**Next status poll:** {state.next_poll_at:%Y-%m-%d %H:%M:%S} UTC (poll #{state.polls + 1})")
    if state.review_reason and state.status in (ClaimStatus.IN_REVIEW, ClaimStatus.INFO_REQUESTED):
        rows.append(f"**Review reason:** {state.review_reason.value}")
    if state.assigned_adjuster:
        rows.append(f"**Adjuster:** {state.assigned_adjuster}")
    if state.review_due_at and state.status is ClaimStatus.IN_REVIEW:
        rows.append(f"**Decision due:** {state.review_due_at:%Y-%m-%d %H:%M} UTC")
    if state.validation_errors:
        rows.append(f"**Validation errors:** {', '.join(sorted({i.rule_id for i in state.validation_errors}))}")
    if state.paid_amount is not None:
        rows.append(f"**Paid:** {state.paid_amount:.2f} ({state.payment_id})")
    return "\n\n".join(rows)


def show_claim_file(state: ClaimState) -> None:
    """Set the workflow's current details to the claim file."""
    workflow.set_current_details(current_details(state))
