"""ClaimWorkflow: one durable workflow per claim, from validation to payment."""

from __future__ import annotations

import asyncio
import functools
from datetime import datetime, timedelta
from decimal import Decimal

from temporalio import workflow
from temporalio.exceptions import ActivityError

with workflow.unsafe.imports_passed_through():
    from activities.contracts import RecordedPayment, ResolvedIntegration, StatusDetails, business_failure, enforce
    from domain.adjudication import REJECTED, LineAdjudication, ProcessorStatus
    from domain.decision import (
        Decision,
        DecisionAction,
        Recommendation,
        adjudicate,
        approved_total,
        check_decision,
        check_information_complete,
        check_reassignable,
        needs_second_approval,
    )
    from domain.lineage import LineageKind, kind_of
    from domain.routing import ReviewReason, held_by_risk_screen, route, statuses_toward
    from domain.status import ClaimStatus, check_cancellable, check_information_expected, check_ready, is_final
    from domain.validation import Severity, ValidationFinding
    from domain.validation.messages import ELIGIBILITY_MISMATCH_RULE, ELIGIBILITY_UNCHECKED_RULE
    from workflows import claim_steps
    from workflows.claim_contract import (
        CANCEL_UPDATE,
        DECIDE_UPDATE,
        PROCESSOR_NOTICE_SIGNAL,
        PROVIDE_INFORMATION_UPDATE,
        REASSIGN_UPDATE,
        STATE_QUERY,
        SUBMIT_UPDATE,
        WORKFLOW_NAME,
        CancelInput,
        ClaimState,
        ClaimWorkflowInput,
        ClaimWorkflowResult,
        DecideInput,
        ProcessorNotice,
        ProvideInformationInput,
        ReassignInput,
        StatusChange,
        SubmitInput,
        UpdateResult,
    )
    from workflows.claim_file import show_claim_file
    from workflows.polling import PollSchedule
    from workflows.status_recorder import StatusRecorder

#: Statuses in which the claim waits for the processor's answer.
WITH_PROCESSOR = (ClaimStatus.SUBMITTED, ClaimStatus.PENDING)
#: Eligibility findings shown with the claim's warnings: field names only, never the payer's values.
ELIGIBILITY_UNCHECKED = ValidationFinding(
    rule_id=ELIGIBILITY_UNCHECKED_RULE, path="insurance.payer_id", severity=Severity.WARNING
)
#: The denial's CARC when the information an adjuster requested never came (16: the claim lacks information).
INFORMATION_NOT_RECEIVED_CARC = "16"


@workflow.defn(name=WORKFLOW_NAME)
class ClaimWorkflow:
    @workflow.init
    def __init__(self, input: ClaimWorkflowInput) -> None:
        self._input = input
        self._policy = input.policy
        self._state = input.resume or ClaimState(
            claim_id=input.claim_id,
            org_id=input.org_id,
            status_history=[
                StatusChange(
                    seq=0, status=ClaimStatus.RECEIVED, at=input.received_at, reason="claim received", actor="api"
                )
            ],
        )
        #: Held by whatever changes the claim's status: the lifecycle below and the update handlers.
        self._lock = asyncio.Lock()
        self._status = StatusRecorder(self._state, self._lock, self._show_claim_file)
        self._polls = PollSchedule(self._policy, self._state)

    # ---- the claim's story ------------------------------------------------------------------------

    @workflow.run
    async def run(self, input: ClaimWorkflowInput) -> ClaimWorkflowResult:
        self._show_claim_file()
        while not is_final(self._state.status):
            match self._state.status:
                case ClaimStatus.RECEIVED:
                    await self._status.advance(
                        ClaimStatus.RECEIVED, ClaimStatus.VALIDATING, "validation started", defer=True
                    )
                case ClaimStatus.VALIDATING:
                    await self._validate_and_submit()
                case ClaimStatus.READY:
                    await self._await_submission()
                case ClaimStatus.SUBMITTED | ClaimStatus.PENDING:
                    await self._follow_the_processor()
                case ClaimStatus.IN_REVIEW:
                    await self._await_decision()
                case ClaimStatus.INFO_REQUESTED:
                    await self._await_information()
                case ClaimStatus.APPROVED | ClaimStatus.PARTIALLY_APPROVED:
                    await self._pay()
                case ClaimStatus.PAID:
                    await self._status.advance(ClaimStatus.PAID, ClaimStatus.CLOSED, "remittance posted; claim closed")
        await self._status.write_unwritten()
        await workflow.wait_condition(workflow.all_handlers_finished)
        return ClaimWorkflowResult.model_validate(self._state, from_attributes=True)

    async def _validate_and_submit(self) -> None:
        """Run every edit and snapshot a valid claim (with "validating", in one transaction), then submit it through
        its integration; without an enabled one, the claim waits in `ready`."""
        state = self._state
        result = await claim_steps.validate_and_snapshot(
            state, self._input.received_at.date(), self._status.take_unwritten()
        )
        state.payer_id = result.facts.payer_id
        state.total_charge = result.facts.total_charge
        state.lines = result.facts.lines
        state.validation_warnings = result.warnings
        state.original_claim_id = result.facts.original_claim_id
        state.lineage = kind_of(result.facts.frequency_code) if state.original_claim_id else None
        if not result.valid:
            state.validation_errors = result.errors
            reason = f"{len(result.errors)} validation error{'s' if len(result.errors) != 1 else ''}"
            details = StatusDetails(validation_issues=[*result.errors, *result.warnings])
            await self._status.advance(ClaimStatus.VALIDATING, ClaimStatus.INVALID, reason, details=details)
            return
        integration = await claim_steps.resolve_integration(state)
        self._take_integration(integration)
        if not integration.submittable:
            reason = f"ready: not sent ({integration.refusal}); an operator submits it once it can be"
            details = StatusDetails(validation_issues=state.validation_warnings or None)
            await self._status.advance(ClaimStatus.VALIDATING, ClaimStatus.READY, reason, details=details)
            return
        if await self._eligible(ClaimStatus.VALIDATING) and not await self._risk_held(ClaimStatus.VALIDATING):
            await self._submit(ClaimStatus.VALIDATING)

    async def _risk_held(self, expected: ClaimStatus) -> bool:
        """Screen the claim before submission: a score at or above the threshold sends it to review unsent, with its
        reasons (True); an adjuster's approval then sends it (`_release_risk_hold`), a denial ends it. The score never
        denies a claim by itself. True as well when an update moved the claim meanwhile; False once an adjuster
        cleared it."""
        state = self._state
        if state.risk_cleared_by is not None:
            return False
        screen = await claim_steps.screen_risk(state, "before_submission")
        state.risk_score, state.risk_reasons = screen.score, screen.reasons
        if state.status is not expected:
            return True  # cancelled meanwhile
        if not screen.held:
            return False
        await self._enter_review(ReviewReason.RISK_SCREEN, [], issues=state.validation_warnings or None)
        return True

    async def _risk_holds_approval(self) -> bool:
        """Screen a claim the processor's answer would auto-approve (unless an adjuster cleared it already)."""
        state = self._state
        if state.risk_cleared_by is not None:
            return False
        screen = await claim_steps.screen_risk(state, "before_auto_approval")
        state.risk_score, state.risk_reasons = screen.score, screen.reasons
        return screen.held

    def _releases_risk_hold(self, decision: Decision) -> bool:
        """Whether a decision approves a claim the risk screen held before submission: approving sends it."""
        state = self._state
        if state.review_reason is not ReviewReason.RISK_SCREEN or state.payer_claim_id is not None:
            return False
        if decision.action is DecisionAction.CONFIRM and state.recommendation is not None:
            decision = state.recommendation.decision
        return decision.action is DecisionAction.APPROVE

    async def _release_risk_hold(self, actor: str, how: str, note_id: str | None) -> None:
        """Approved after the risk screen held it before submission: back to `ready` with its submission started, so
        the lifecycle sends it (asking eligibility again where the integration wants it). The caller holds the lock."""
        state = self._state
        state.risk_cleared_by = actor
        state.submission_started = True
        reason = f"approved for submission by {actor} after the risk screen{how}"
        await self._status.move(ClaimStatus.READY, reason, actor=actor, details=StatusDetails(note_id=note_id))

    def _take_integration(self, integration: ResolvedIntegration) -> None:
        self._state.integration_id = integration.integration_id
        self._state.adapter = integration.adapter
        self._state.check_eligibility = integration.check_eligibility

    async def _eligible(self, expected: ClaimStatus) -> bool:
        """Where the integration asks for it, ask the payer about the member's coverage before submission: inactive
        coverage sends the claim to review (False); mismatched demographics are a warning. A payer that does not
        answer within the policy's deadline (retries included) is no reason to hold the claim: it goes on unchecked,
        with a warning saying so (the payer's own adjudication still catches a coverage problem)."""
        state = self._state
        if not state.check_eligibility:
            return True
        state.waiting_for = "the payer's eligibility answer"
        self._show_claim_file()
        try:
            check = await claim_steps.check_eligibility(state, self._policy.eligibility_deadline)
        except ActivityError:
            state.validation_warnings = [*state.validation_warnings, ELIGIBILITY_UNCHECKED]
            return True
        if state.status is not expected:
            return False  # cancelled meanwhile
        if check.mismatches:
            mismatch = ValidationFinding(
                rule_id=ELIGIBILITY_MISMATCH_RULE,
                path="patient",
                severity=Severity.WARNING,
                params={"fields": ",".join(check.mismatches)},
            )
            state.validation_warnings = [*state.validation_warnings, mismatch]
        if check.active:
            return True
        await self._enter_review(ReviewReason.COVERAGE_INACTIVE, [], issues=state.validation_warnings or None)
        return False

    async def _await_submission(self) -> None:
        """Wait in `ready` until an operator submits the claim (the submit update) or cancels it."""
        state = self._state
        state.waiting_for = "an operator to submit it once its integration is enabled"
        self._show_claim_file()
        await workflow.wait_condition(lambda: state.status is not ClaimStatus.READY or state.submission_started)
        ready = state.status is ClaimStatus.READY and await self._eligible(ClaimStatus.READY)
        if ready and not await self._risk_held(ClaimStatus.READY):
            await self._submit(ClaimStatus.READY)

    async def _submit(self, expected: ClaimStatus) -> None:
        """Send the claim through its integration's adapter and record the processor's receipt."""
        state = self._state
        async with self._lock:  # from here on the processor may have the claim: a cancellation waits or is refused
            if state.status is not expected:
                return  # cancelled meanwhile: nothing was sent
            state.submission_started = True
        receipt = await claim_steps.submit(state)
        state.payer_claim_id = receipt.payer_claim_id
        state.processor_category = receipt.category
        state.processor_status_code = receipt.status_code or None
        state.poll_deadline_at = workflow.now() + self._policy.poll_deadline
        rejected = receipt.category in REJECTED
        details = StatusDetails(
            payer_claim_id=receipt.payer_claim_id, validation_issues=state.validation_warnings or None
        )
        reason = f"{'rejected' if rejected else 'accepted'} by the processor ({receipt.category.value})"
        await self._status.advance(expected, ClaimStatus.SUBMITTED, reason, details=details)
        if rejected:
            await self._enter_review(ReviewReason.REJECTED_BY_PROCESSOR, [])
        elif state.lineage is not None:
            await self._settle_original()

    async def _settle_original(self) -> None:
        """The payer accepted this replacement or void at submission: its original shows replaced or voided. A
        replacement goes on to adjudication; a void has nothing more to wait for and closes."""
        state = self._state
        marked = await claim_steps.mark_original(state)
        if state.lineage is LineageKind.VOIDS:
            reason = f"void accepted by the processor; claim {state.original_claim_id} voided"
            details = StatusDetails(note_id=marked.note_id)
            await self._status.advance(ClaimStatus.SUBMITTED, ClaimStatus.CLOSED, reason, details=details)

    async def _follow_the_processor(self) -> None:
        """Poll on durable timers with back-off until a settled answer, or review at the deadline."""
        state = self._state
        while state.status in WITH_PROCESSOR:
            if self._polls.deadline_passed():
                await self._enter_review(ReviewReason.NO_ANSWER_BY_DEADLINE, [])
                return
            state.waiting_for = "the processor's status answer"
            self._show_claim_file()
            await self._polls.wait(still_waiting=lambda: state.status in WITH_PROCESSOR)
            if state.status not in WITH_PROCESSOR:
                return
            answer = await claim_steps.poll(state)
            self._polls.polled()
            if await self._take_answer(answer):
                return
            if self._polls.history_is_long():
                await self._continue_as_new()

    async def _take_answer(self, answer: ProcessorStatus) -> bool:
        """Act on a processor answer; True once it settled the claim (or an update moved it meanwhile)."""
        state = self._state
        state.processor_category = answer.category
        state.processor_status_code = answer.status_code or None
        routing = route(answer, state.total_charge or Decimal("0"), self._policy.auto_approve_limit)
        if routing.status is ClaimStatus.APPROVED and await self._risk_holds_approval():
            routing = held_by_risk_screen()
        *through, outcome = statuses_toward(state.status, routing)
        for status in through:  # written with the outcome, unless an adjuster must be found first
            reason = f"answered by the processor ({answer.category.value})"
            if not await self._status.advance(state.status, status, reason, defer=outcome is not ClaimStatus.IN_REVIEW):
                return True
        if outcome is ClaimStatus.PENDING:
            if state.status is ClaimStatus.SUBMITTED:
                await self._status.advance(ClaimStatus.SUBMITTED, ClaimStatus.PENDING, routing.reason)
            return False
        if outcome is ClaimStatus.IN_REVIEW:
            assert routing.review_reason is not None
            await self._enter_review(routing.review_reason, answer.lines)
            return True
        state.adjudication = answer.lines
        await self._status.advance(
            ClaimStatus.PENDING, outcome, routing.reason, details=StatusDetails(adjudication=answer.lines)
        )
        return True

    async def _continue_as_new(self) -> None:
        """Start a fresh run with the state so far, so a claim's history stays short however long it waits."""
        await workflow.wait_condition(workflow.all_handlers_finished)
        state = self._state
        if state.status in WITH_PROCESSOR:
            state.waiting_for = "continuing as new to keep history short"
            workflow.continue_as_new(self._input.model_copy(update={"resume": state}))

    async def _enter_review(
        self,
        reason: ReviewReason,
        adjudication: list[LineAdjudication],
        issues: list[ValidationFinding] | None = None,
    ) -> None:
        """Assign an adjuster by the rules, then put the claim in review with an SLA."""
        state = self._state
        current = state.status
        assignment = await claim_steps.assign(state, escalate=False)
        async with self._lock:
            if state.status is not current:
                return  # an update moved the claim meanwhile
            state.review_reason = reason
            if adjudication:
                state.adjudication = adjudication
            state.assigned_adjuster = assignment.adjuster_id
            state.assignment_rule = assignment.rule
            state.review_due_at = workflow.now() + self._policy.review_sla
            who = assignment.adjuster_id or "nobody (no eligible adjuster)"
            who += f" by rule {assignment.rule}" if assignment.rule else ""
            details = StatusDetails(
                adjudication=adjudication or None,
                assigned_adjuster=assignment.adjuster_id,
                validation_issues=issues,
                review_due_at=state.review_due_at,
                risk_score=state.risk_score,
            )
            await self._status.move(
                ClaimStatus.IN_REVIEW, f"needs review: {reason.value}; assigned to {who}", details=details
            )

    async def _await_decision(self) -> None:
        """Wait for an adjuster's decision; past the SLA, escalate to a supervisor (up to the policy's cap)."""
        state = self._state
        while state.status is ClaimStatus.IN_REVIEW:
            due = state.review_due_at
            escalate_at = due if due is not None and state.escalations < self._policy.max_escalations else None
            state.waiting_for = f"a decision from {state.assigned_adjuster or 'a supervisor'}"
            self._show_claim_file()
            try:
                await workflow.wait_condition(  # a reassignment or recommendation sets a new due time: wait again
                    functools.partial(self._decided_or_due_moved, due),
                    timeout=max(escalate_at - workflow.now(), timedelta(seconds=1)) if escalate_at else None,
                    timeout_summary="review SLA",
                )
            except TimeoutError:
                await self._escalate()

    def _decided_or_due_moved(self, due: datetime | None) -> bool:
        return self._state.status is not ClaimStatus.IN_REVIEW or self._state.review_due_at != due

    async def _escalate(self) -> None:
        state = self._state
        assignment = await claim_steps.assign(state, escalate=True)
        async with self._lock:
            if state.status is not ClaimStatus.IN_REVIEW:
                return
            state.escalations += 1
            state.review_due_at = workflow.now() + self._policy.review_sla
            state.assigned_adjuster = assignment.adjuster_id or state.assigned_adjuster
            state.assignment_rule = assignment.rule if assignment.adjuster_id else state.assignment_rule
            hours = self._policy.review_sla.total_seconds() / 3600
            reason = f"escalated: no decision within {hours:g}h; assigned to {state.assigned_adjuster or 'nobody'}"
            reason += f" by rule {assignment.rule}" if assignment.adjuster_id and assignment.rule else ""
            await self._status.record(
                ClaimStatus.IN_REVIEW,
                reason,
                details=StatusDetails(assigned_adjuster=state.assigned_adjuster, review_due_at=state.review_due_at),
            )

    async def _await_information(self) -> None:
        """Wait for the submitter's answer; past the information deadline, deny."""
        self._state.waiting_for = "information from the submitter"
        self._show_claim_file()
        try:
            await workflow.wait_condition(
                lambda: self._state.status is not ClaimStatus.INFO_REQUESTED,
                timeout=self._policy.info_deadline,
                timeout_summary="information deadline",
            )
        except TimeoutError:
            days = self._policy.info_deadline.total_seconds() / 86400
            denial = Decision(action=DecisionAction.DENY, reason_code=INFORMATION_NOT_RECEIVED_CARC)
            lines = adjudicate(denial, self._state.lines)
            details = StatusDetails(adjudication=lines, adjudicated_by_adjuster=True)
            if await self._status.advance(
                ClaimStatus.INFO_REQUESTED,
                ClaimStatus.DENIED,
                f"requested information not received within {days:g} days",
                details=details,
            ):
                self._state.adjudication = lines

    async def _pay(self) -> None:
        """Have the processor pay the approved lines, then record the payment with "paid"."""
        state = self._state
        lines = [(line.line_number, line.paid) for line in state.adjudication if line.paid > 0]
        if not lines:  # decisions approving nothing are refused by their validator
            raise business_failure("nothing_to_pay", "an approved claim has no amount to pay")
        state.waiting_for = "the payment"
        self._show_claim_file()
        receipt = await claim_steps.pay(state, lines)
        state.payment_id = receipt.payment_id
        state.paid_amount = receipt.amount
        payment = RecordedPayment(payment_id=receipt.payment_id, amount=receipt.amount, paid_at=workflow.now())
        reason = f"paid {receipt.amount:.2f} ({receipt.payment_id})"
        await self._status.advance(
            state.status, ClaimStatus.PAID, reason, details=StatusDetails(payment=payment), defer=True
        )

    # ---- handlers ---------------------------------------------------------------------------------

    @workflow.query(name=STATE_QUERY)
    def state(self) -> ClaimState:
        return self._state

    @workflow.signal(name=PROCESSOR_NOTICE_SIGNAL)
    def processor_notice(self, notice: ProcessorNotice) -> None:
        if notice.payer_claim_id == self._state.payer_claim_id:
            self._polls.wake()

    @workflow.update(name=DECIDE_UPDATE)
    async def decide(self, input: DecideInput) -> UpdateResult:
        state = self._state
        async with self._lock:
            self._check_decision(input)  # the claim may have moved since the validator ran
            if needs_second_approval(input.decision, state.lines, input.authority_limit):
                await self._recommend(input)
            else:
                await self._apply_decision(input)
        if state.recommendation is not None and state.assigned_adjuster == state.recommendation.recommended_by:
            await self._route_to_supervisor()
        return UpdateResult(
            claim_id=state.claim_id,
            status=state.status,
            assigned_adjuster=state.assigned_adjuster,
            awaiting_second_approval=state.recommendation is not None,
        )

    async def _recommend(self, input: DecideInput) -> None:
        """An approval above the adjuster's authority: recorded as a recommendation; the claim stays in review."""
        state, actor = self._state, input.adjuster_id
        amount = approved_total(input.decision, state.lines)
        state.recommendation = Recommendation(decision=input.decision, recommended_by=actor, amount=amount)
        reason = f"{input.decision.action.value} {amount:.2f} recommended by {actor}: above their authority; waits for a supervisor"
        await self._status.record(
            ClaimStatus.IN_REVIEW, reason, actor=actor, details=StatusDetails(note_id=input.note_id)
        )

    async def _route_to_supervisor(self) -> None:
        """Give a recommended claim to a supervisor other than the recommender, with a fresh SLA."""
        state = self._state
        assignment = await claim_steps.assign(state, escalate=True)
        async with self._lock:
            if state.status is not ClaimStatus.IN_REVIEW or state.recommendation is None:
                return  # decided meanwhile
            state.assigned_adjuster, state.assignment_rule = assignment.adjuster_id, assignment.rule
            state.review_due_at = workflow.now() + self._policy.review_sla
            who = assignment.adjuster_id or "nobody (no eligible supervisor)"
            await self._status.record(
                ClaimStatus.IN_REVIEW,
                f"recommendation assigned to {who} for a second approval",
                details=StatusDetails(assigned_adjuster=assignment.adjuster_id, review_due_at=state.review_due_at),
            )

    async def _apply_decision(self, input: DecideInput) -> None:
        """Record a decision the decider may take alone (or a supervisor's on a recommendation)."""
        state, actor = self._state, input.adjuster_id
        decision, how = input.decision, ""
        if state.recommendation is not None:
            recommended = state.recommendation
            if decision.action is DecisionAction.CONFIRM:
                decision, how = recommended.decision, f" (recommended by {recommended.recommended_by}, confirmed)"
            else:
                how = f" (over {recommended.recommended_by}'s recommendation)"
            state.recommendation = None
        if self._releases_risk_hold(decision):
            await self._release_risk_hold(actor, how, input.note_id)
            return
        note = StatusDetails(note_id=input.note_id)
        match decision.action:
            case DecisionAction.APPROVE | DecisionAction.PARTIAL:
                state.adjudication = adjudicate(decision, state.lines)
                target = (
                    ClaimStatus.APPROVED
                    if decision.action is DecisionAction.APPROVE
                    else ClaimStatus.PARTIALLY_APPROVED
                )
                details = note.model_copy(update={"adjudication": state.adjudication, "adjudicated_by_adjuster": True})
                await self._status.move(
                    target, f"{decision.action.value} by {actor}{how}", actor=actor, details=details
                )
            case DecisionAction.DENY:
                code = decision.reason_code or next((ln.reason_code for ln in decision.lines if ln.reason_code), "")
                state.adjudication = adjudicate(decision, state.lines)
                details = note.model_copy(update={"adjudication": state.adjudication, "adjudicated_by_adjuster": True})
                await self._status.move(
                    ClaimStatus.DENIED, f"denied by {actor} (CARC {code}){how}", actor=actor, details=details
                )
            case DecisionAction.REQUEST_INFO:
                state.information_requested = list(decision.requested_documents)
                documents = ", ".join(kind.value for kind in decision.requested_documents)
                asked = f" ({documents})" if documents else ""
                await self._status.move(
                    ClaimStatus.INFO_REQUESTED,
                    f"information requested by {actor}{asked}{how}",
                    actor=actor,
                    details=note,
                )
            case DecisionAction.CONFIRM:  # refused by the validator without a recommendation
                raise business_failure("decision_conflict", "nothing to confirm")

    @decide.validator
    def _check_decision(self, input: DecideInput) -> None:
        state = self._state
        approves = input.decision.action in (DecisionAction.APPROVE, DecisionAction.PARTIAL, DecisionAction.CONFIRM)
        if approves and state.payer_claim_id is None and not self._releases_risk_hold(input.decision):
            why = "the risk screen held it: approve sends it" if state.review_reason is ReviewReason.RISK_SCREEN else ""
            raise business_failure(
                "claim_not_submitted",
                f"the claim was never sent to the payer ({why or 'its coverage was inactive'}): deny it or request "
                "information",
            )
        enforce(
            lambda: check_decision(
                input.decision,
                status=state.status,
                assigned_adjuster=state.assigned_adjuster,
                decided_by=input.adjuster_id,
                decided_by_supervisor=input.supervisor,
                lines=state.lines,
                recommendation=state.recommendation,
                has_note=input.note_id is not None,
            )
        )

    @workflow.update(name=REASSIGN_UPDATE)
    async def reassign(self, input: ReassignInput) -> UpdateResult:
        """Hand the claim to the adjuster named (or the rules' choice besides the current one); the SLA starts again
        for the new assignee."""
        state = self._state
        async with self._lock:
            self._check_reassignable(input)
        chosen, rule = input.adjuster_id, None  # named by a supervisor: no rule chose
        if chosen is None:
            assignment = await claim_steps.assign(state, escalate=False, exclude_current=True)
            if assignment.adjuster_id is None:
                raise business_failure(
                    "reassign_conflict", f"no other eligible adjuster for this claim ({assignment.reason}); name one"
                )
            chosen, rule = assignment.adjuster_id, assignment.rule
        async with self._lock:
            self._check_reassignable(input)  # decided or reassigned meanwhile
            previous = state.assigned_adjuster or "nobody"
            state.assigned_adjuster, state.assignment_rule = chosen, rule
            if state.status is ClaimStatus.IN_REVIEW:
                state.review_due_at = workflow.now() + self._policy.review_sla
            await self._status.record(
                state.status,
                f"reassigned from {previous} to {chosen} by {input.actor}",
                actor=input.actor,
                details=StatusDetails(
                    assigned_adjuster=chosen, note_id=input.note_id, review_due_at=state.review_due_at
                ),
            )
        return UpdateResult(claim_id=state.claim_id, status=state.status, assigned_adjuster=chosen)

    @reassign.validator
    def _check_reassignable(self, input: ReassignInput) -> None:
        enforce(
            lambda: check_reassignable(self._state.status, current=self._state.assigned_adjuster, to=input.adjuster_id)
        )

    @workflow.update(name=CANCEL_UPDATE)
    async def cancel(self, input: CancelInput) -> UpdateResult:
        async with self._lock:
            self._check_cancellable(input)
            await self._status.move(
                ClaimStatus.CANCELLED,
                f"cancelled by {input.actor}",
                actor=input.actor,
                details=StatusDetails(note_id=input.note_id),
            )
        return UpdateResult(
            claim_id=self._state.claim_id, status=self._state.status, assigned_adjuster=self._state.assigned_adjuster
        )

    @cancel.validator
    def _check_cancellable(self, input: CancelInput) -> None:
        enforce(lambda: check_cancellable(self._state.status, submission_started=self._state.submission_started))

    @workflow.update(name=PROVIDE_INFORMATION_UPDATE)
    async def provide_information(self, input: ProvideInformationInput) -> UpdateResult:
        async with self._lock:
            self._check_information_expected(input)
            self._state.review_due_at = workflow.now() + self._policy.review_sla
            self._state.information_requested = []
            with_documents = f" with documents {', '.join(input.document_ids)}" if input.document_ids else ""
            reason = f"information provided by {input.actor}{with_documents}"
            await self._status.move(
                ClaimStatus.IN_REVIEW,
                reason,
                actor=input.actor,
                details=StatusDetails(note_id=input.note_id, review_due_at=self._state.review_due_at),
            )
        return UpdateResult(
            claim_id=self._state.claim_id, status=self._state.status, assigned_adjuster=self._state.assigned_adjuster
        )

    @workflow.update(name=SUBMIT_UPDATE)
    async def submit(self, input: SubmitInput) -> UpdateResult:
        """Submit a ready claim: its integration is resolved again and must now be enabled; then the lifecycle sends
        it, and the update answers once it has left `ready`."""
        state = self._state
        async with self._lock:
            self._check_ready(input)
            integration = await claim_steps.resolve_integration(state)
            if not integration.submittable:
                raise business_failure(
                    integration.refusal or "integration_not_enabled",
                    "the claim's integration is not enabled (or its payer is inactive); it stays ready",
                )
            self._take_integration(integration)
            state.submission_started = True
        await workflow.wait_condition(lambda: state.status is not ClaimStatus.READY)
        return UpdateResult(claim_id=state.claim_id, status=state.status, assigned_adjuster=state.assigned_adjuster)

    @submit.validator
    def _check_ready(self, input: SubmitInput) -> None:
        enforce(lambda: check_ready(self._state.status, submission_started=self._state.submission_started))

    @provide_information.validator
    def _check_information_expected(self, input: ProvideInformationInput) -> None:
        enforce(lambda: check_information_expected(self._state.status))
        enforce(lambda: check_information_complete(self._state.information_requested, input.document_types))

    def _show_claim_file(self) -> None:
        """Refresh what the Temporal UI shows of the claim."""
        show_claim_file(self._state)
