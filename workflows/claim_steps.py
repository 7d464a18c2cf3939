"""The claim's activities as ClaimWorkflow calls them: what each takes from the claim, how it runs, its UI summary."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from activities.contracts import (
        ASSIGN_ADJUSTER,
        CHECK_ELIGIBILITY,
        ISSUE_PAYMENT,
        MARK_ORIGINAL,
        POLL_CLAIM_STATUS,
        RESOLVE_INTEGRATION,
        SCREEN_RISK,
        SUBMIT_CLAIM,
        VALIDATE_AND_SNAPSHOT,
        AssignAdjusterInput,
        AssignAdjusterResult,
        CheckEligibilityInput,
        EligibilityCheck,
        IssuePaymentInput,
        IssuePaymentResult,
        MarkOriginalInput,
        MarkOriginalResult,
        PollStatusInput,
        ResolvedIntegration,
        ResolveIntegrationInput,
        RiskScreenResult,
        ScreenRiskInput,
        StatusRecord,
        SubmissionReceipt,
        SubmitClaimInput,
        ValidateAndSnapshotInput,
        ValidateAndSnapshotResult,
    )
    from domain.adjudication import ProcessorStatus
    from domain.assignment import claim_kind_of
    from domain.lineage import OUTCOME
    from workflows import steps
    from workflows.claim_contract import ClaimState


async def validate_and_snapshot(
    state: ClaimState, today: date, records: list[StatusRecord]
) -> ValidateAndSnapshotResult:
    """Every edit, and a valid claim's snapshot, with the status changes before them, in one transaction."""
    return await steps.run_local(
        VALIDATE_AND_SNAPSHOT,
        ValidateAndSnapshotInput(
            claim_id=state.claim_id, org_id=state.org_id, today=today, snapshot_at=workflow.now(), records=records
        ),
        kind=steps.DATABASE,
        summary="validate and snapshot the claim",
    )


async def resolve_integration(state: ClaimState) -> ResolvedIntegration:
    """The integration the claim goes through (the payer's route, else the organization's default), and whether
    it may be sent now."""
    return await steps.run_local(
        RESOLVE_INTEGRATION,
        ResolveIntegrationInput(claim_id=state.claim_id, org_id=state.org_id, payer_id=state.payer_id or ""),
        kind=steps.DATABASE,
        summary="resolve the claim's integration",
    )


async def check_eligibility(state: ClaimState, deadline: timedelta) -> EligibilityCheck:
    """Ask the payer whether the member is covered (the answer is kept with the claim); a payer that is down is
    retried with back-off until `deadline`, then the ActivityError reaches the caller."""
    result: EligibilityCheck = await workflow.execute_activity(
        CHECK_ELIGIBILITY.name,
        CheckEligibilityInput(claim_id=state.claim_id, adapter=state.adapter),
        result_type=CHECK_ELIGIBILITY.result,
        start_to_close_timeout=steps.PROCESSOR.timeout,
        schedule_to_close_timeout=deadline,
        retry_policy=steps.PROCESSOR.retry,
        summary="check the member's eligibility",
    )
    return result


async def screen_risk(state: ClaimState, stage: str) -> RiskScreenResult:
    """Score the claim by the risk rules (and the external scorer, where one is configured, within its short
    timeout): a short step, run inside the workflow task that needs it."""
    return await steps.run_local(
        SCREEN_RISK,
        ScreenRiskInput(claim_id=state.claim_id, stage=stage),
        kind=steps.DATABASE,
        summary=f"risk screen ({stage.replace('_', ' ')})",
    )


async def submit(state: ClaimState) -> SubmissionReceipt:
    """Submit the claim; its idempotency key makes every retry the same submission."""
    return await steps.run(
        SUBMIT_CLAIM,
        SubmitClaimInput(
            claim_id=state.claim_id, idempotency_key=f"claim-{state.claim_id}-submission", adapter=state.adapter
        ),
        kind=steps.PROCESSOR,
        summary="submit to the processor",
    )


async def poll(state: ClaimState) -> ProcessorStatus:
    assert state.payer_claim_id is not None
    return await steps.run_local(
        POLL_CLAIM_STATUS,
        PollStatusInput(claim_id=state.claim_id, payer_claim_id=state.payer_claim_id, adapter=state.adapter),
        kind=steps.PROCESSOR,
        summary=f"poll the processor's status (#{state.polls + 1})",
    )


async def assign(state: ClaimState, *, escalate: bool, exclude_current: bool = False) -> AssignAdjusterResult:
    """An adjuster by the rules; escalating, a supervisor other than the current assignee; `exclude_current`, anyone
    but the current assignee (a reassignment by the rules)."""
    previous = state.assigned_adjuster
    return await steps.run(
        ASSIGN_ADJUSTER,
        AssignAdjusterInput(
            claim_id=state.claim_id,
            payer_id=state.payer_id or "",
            amount=state.total_charge or Decimal("0"),
            escalate=escalate,
            exclude=[previous] if (escalate or exclude_current) and previous else [],
            org_id=state.org_id,
            claim_kind=claim_kind_of(state.lineage),
        ),
        kind=steps.DATABASE,
        summary="escalate to a supervisor" if escalate else "assign an adjuster",
    )


async def pay(state: ClaimState, lines: list[tuple[int, Decimal]]) -> IssuePaymentResult:
    """Have the processor pay the lines; its idempotency key makes every retry the same payment."""
    return await steps.run(
        ISSUE_PAYMENT,
        IssuePaymentInput(
            claim_id=state.claim_id,
            payer_claim_id=state.payer_claim_id or "",
            lines=lines,
            idempotency_key=f"claim-{state.claim_id}-payment",
            adapter=state.adapter,
        ),
        kind=steps.PROCESSOR,
        summary="issue the payment",
    )


async def mark_original(state: ClaimState) -> MarkOriginalResult:
    """The payer accepted this replacement or void: its original shows replaced or voided (a void's reversal posts
    to the original's ledger), written by this workflow since the original's has ended."""
    assert state.lineage is not None
    outcome = OUTCOME[state.lineage]
    return await steps.run_local(
        MARK_ORIGINAL,
        MarkOriginalInput(claim_id=state.claim_id, outcome=outcome, at=workflow.now()),
        kind=steps.DATABASE,
        summary=f"mark the original claim {outcome.value}",
    )
