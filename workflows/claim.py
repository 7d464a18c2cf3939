"""ClaimWorkflow: one durable workflow per claim, from validation to payment."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ApplicationError
from temporalio.types import MethodAsyncSingleParam, ParamType, ReturnType

with workflow.unsafe.imports_passed_through():
    from activities.assignment import AssignAdjusterInput, AssignmentActivities
    from activities.claim_records import (
        ClaimRecordActivities,
        RecordPaymentInput,
        RecordStatusChangesInput,
        RecordStatusInput,
        SnapshotClaimInput,
        ValidateClaimInput,
    )
    from activities.errors import NON_RETRYABLE
    from activities.processor import IssuePaymentInput, PollStatusInput, ProcessorActivities, SubmitClaimInput
    from domain.adjudication import REJECTED, LineAdjudication
    from domain.decision import DecisionAction, adjudicate, check_decision
    from domain.errors import DomainError
    from domain.routing import ReviewReason, route
    from domain.status import CANCELLABLE, ClaimStatus, is_final, move
    from domain.validation import ValidationIssue
    from workflows.claim_contract import (
        ASSIGNED_ADJUSTER,
        CANCEL_UPDATE,
        CLAIM_STATUS,
        DECIDE_UPDATE,
        PROCESSOR_NOTICE_SIGNAL,
        PROVIDE_INFORMATION_UPDATE,
        STATE_QUERY,
        WORKFLOW_NAME,
        CancelInput,
        ClaimState,
        ClaimWorkflowInput,
        ClaimWorkflowResult,
        DecideInput,
        ProcessorNotice,
        ProvideInformationInput,
        StatusChange,
        UpdateResult,
    )

S = ClaimStatus
ENGINE = "claimflow"

#: Patches (workflow.patched): changes to the command sequence that claims already running must not see.
#: Status records run as local activities (before: a regular activity each).
LOCAL_STATUS_RECORDS = "local-status-records"
#: Status polls (one short, read-only processor request each) run as local activities.
LOCAL_POLLS = "local-polls"
#: Status changes made one after another are written together, by one step: "validating" by the validation
#: step, which also writes the snapshot (before: a snapshot step), "paid" with "closed" (before: one each).
BATCHED_RECORDS = "batched-records"

#: Database steps: short, retried until the database is back (an outage delays claims, never loses them).
DB_TIMEOUT = timedelta(seconds=15)
DB_RETRY = RetryPolicy(
    initial_interval=timedelta(milliseconds=500),
    maximum_interval=timedelta(seconds=10),
    non_retryable_error_types=NON_RETRYABLE,
)
#: Processor calls: idempotency keys make every retry safe; back off to a minute between tries.
PROCESSOR_TIMEOUT = timedelta(seconds=15)  # above the HTTP client timeout (10 s)
PROCESSOR_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1),
    maximum_interval=timedelta(minutes=1),
    non_retryable_error_types=NON_RETRYABLE,
)


async def _step(
    activity: MethodAsyncSingleParam[Any, ParamType, ReturnType],
    arg: ParamType,
    *,
    summary: str,
    local_since: str,
    timeout: timedelta = DB_TIMEOUT,
    retry: RetryPolicy = DB_RETRY,
) -> ReturnType:
    """Run a short step as a local activity — inside the workflow task that needs it, which saves the server
    a round trip (schedule, poll, start, complete, new task) — or, in runs that started before the patch
    `local_since`, as the regular activity those runs' histories hold."""
    if since(local_since):
        return await workflow.execute_local_activity_method(
            activity, arg, summary=summary, start_to_close_timeout=timeout, retry_policy=retry
        )
    return await workflow.execute_activity_method(
        activity, arg, summary=summary, start_to_close_timeout=timeout, retry_policy=retry
    )


def since(patch: str) -> bool:
    """workflow.patched(patch). A run with the latest patch has every earlier one too, so it is asked first:
    a new run records that one marker (and one search-attribute upsert) instead of one per patch."""
    return workflow.patched(BATCHED_RECORDS) or workflow.patched(patch)


def refusal(error: DomainError) -> ApplicationError:
    """A business refusal the caller sees; `type` carries the domain error's stable code."""
    return ApplicationError(error.message, type=error.code, non_retryable=True)


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
                StatusChange(seq=0, status=S.RECEIVED, at=input.received_at, reason="claim received", actor="api")
            ],
        )
        self._lock = asyncio.Lock()
        self._notified = False
        self._polls_this_run = 0
        self._unrecorded: list[RecordStatusInput] = []  # status changes the next step writes

    # ---- the lifecycle -------------------------------------------------------------------------

    @workflow.run
    async def run(self, input: ClaimWorkflowInput) -> ClaimWorkflowResult:
        self._show()
        while not is_final(self._state.status):
            match self._state.status:
                case S.RECEIVED:
                    await self._advance(S.RECEIVED, S.VALIDATING, "validation started", defer=True)
                case S.VALIDATING:
                    await self._validate_and_submit()
                case S.SUBMITTED | S.PENDING:
                    await self._follow_processor()
                case S.IN_REVIEW:
                    await self._await_decision()
                case S.INFO_REQUESTED:
                    await self._await_information()
                case S.APPROVED | S.PARTIALLY_APPROVED:
                    await self._pay()
                case S.PAID:
                    await self._advance(S.PAID, S.CLOSED, "remittance posted; claim closed")
                case S.INVALID | S.DENIED | S.CLOSED | S.CANCELLED:
                    break
        await self._write_unrecorded()
        await workflow.wait_condition(workflow.all_handlers_finished)
        return ClaimWorkflowResult(
            claim_id=self._state.claim_id,
            status=self._state.status,
            payer_claim_id=self._state.payer_claim_id,
            paid_amount=self._state.paid_amount,
        )

    async def _validate_and_submit(self) -> None:
        claim_id = self._state.claim_id
        batched = workflow.patched(BATCHED_RECORDS)
        result = await workflow.execute_local_activity_method(
            ClaimRecordActivities.validate_claim,
            ValidateClaimInput(
                claim_id=claim_id,
                today=self._input.received_at.date(),
                records=self._take_unrecorded(),
                snapshot_at=workflow.now() if batched else None,
            ),
            summary="validate claim",
            start_to_close_timeout=DB_TIMEOUT,
            retry_policy=DB_RETRY,
        )
        self._state.payer_id = result.facts.payer_id
        self._state.total_charge = result.facts.total_charge
        self._state.lines = result.facts.lines
        self._state.validation_warnings = result.warnings
        if not result.valid:
            self._state.validation_errors = result.errors
            count = len(result.errors)
            reason = f"{count} validation error{'s' if count != 1 else ''}"
            await self._advance(S.VALIDATING, S.INVALID, reason, validation_errors=[*result.errors, *result.warnings])
            return
        if not batched:  # a claim that started before the patch: the snapshot is a step of its own
            await workflow.execute_activity_method(
                ClaimRecordActivities.snapshot_claim,
                SnapshotClaimInput(claim_id=claim_id, taken_at=workflow.now()),
                summary="snapshot claim",
                start_to_close_timeout=DB_TIMEOUT,
                retry_policy=DB_RETRY,
            )
        if self._state.status is not S.VALIDATING:
            return  # cancelled meanwhile: nothing was sent
        receipt = await workflow.execute_activity_method(
            ProcessorActivities.submit_claim,
            SubmitClaimInput(claim_id=claim_id, idempotency_key=f"claim-{claim_id}-submission"),
            summary="submit to processor",
            start_to_close_timeout=PROCESSOR_TIMEOUT,
            retry_policy=PROCESSOR_RETRY,
        )
        self._state.payer_claim_id = receipt.payer_claim_id
        self._state.processor_category = receipt.category
        self._state.processor_message = receipt.message
        self._state.poll_deadline_at = workflow.now() + self._policy.poll_deadline
        reason = f"accepted by processor ({receipt.category.value})"
        if receipt.category in REJECTED:
            reason = f"rejected by processor ({receipt.category.value})"
        warnings = self._state.validation_warnings or None  # kept with the claim once the workflow ends
        if not await self._advance(
            S.VALIDATING, S.SUBMITTED, reason, payer_claim_id=receipt.payer_claim_id, validation_errors=warnings
        ):
            return
        if receipt.category in REJECTED:
            await self._enter_review(S.SUBMITTED, ReviewReason.REJECTED_BY_PROCESSOR.value, [])

    async def _follow_processor(self) -> None:
        """Poll on durable timers with back-off until a settled answer, a webhook, or the deadline."""
        state = self._state
        assert state.payer_claim_id is not None and state.poll_deadline_at is not None
        while state.status in (S.SUBMITTED, S.PENDING):
            now = workflow.now()
            if now >= state.poll_deadline_at:
                await self._enter_review(state.status, ReviewReason.NO_ANSWER_BY_DEADLINE.value, [])
                return
            interval = self._policy.poll_initial * (2 ** min(state.polls, 30))
            wait = min(interval, self._policy.poll_max, state.poll_deadline_at - now)
            state.next_poll_at = now + wait
            state.waiting_for = "the processor's status answer"
            self._show()
            if not self._notified:
                try:
                    await workflow.wait_condition(
                        lambda: self._notified or state.status not in (S.SUBMITTED, S.PENDING),
                        timeout=wait,
                        timeout_summary="wait before the next status poll",
                    )
                except TimeoutError:
                    pass
            self._notified = False
            if state.status not in (S.SUBMITTED, S.PENDING):
                return
            answer = await _step(
                ProcessorActivities.poll_claim_status,
                PollStatusInput(claim_id=state.claim_id, payer_claim_id=state.payer_claim_id),
                summary=f"poll processor status (#{state.polls + 1})",
                local_since=LOCAL_POLLS,
                timeout=PROCESSOR_TIMEOUT,
                retry=PROCESSOR_RETRY,
            )
            state.polls += 1
            self._polls_this_run += 1
            state.next_poll_at = None
            state.processor_category = answer.category
            state.processor_message = answer.message
            total = state.total_charge if state.total_charge is not None else Decimal("0")
            routing = route(answer, total, self._policy.auto_approve_limit)
            current = state.status
            if routing.status is S.PENDING:
                if current is S.SUBMITTED:
                    await self._advance(S.SUBMITTED, S.PENDING, routing.reason)
            elif routing.status is S.IN_REVIEW:
                await self._enter_review(current, routing.reason, answer.lines)
                return
            else:
                if current is S.SUBMITTED and not await self._advance(
                    S.SUBMITTED, S.PENDING, "adjudicated", defer=True
                ):
                    return
                state.adjudication = answer.lines
                await self._advance(S.PENDING, routing.status, routing.reason, adjudication=answer.lines)
                return
            if self._polls_this_run >= self._policy.polls_per_run or workflow.info().is_continue_as_new_suggested():
                await workflow.wait_condition(workflow.all_handlers_finished)
                if state.status in (S.SUBMITTED, S.PENDING):
                    state.waiting_for = "continuing as new to keep history short"
                    workflow.continue_as_new(
                        ClaimWorkflowInput(
                            claim_id=state.claim_id,
                            org_id=state.org_id,
                            received_at=self._input.received_at,
                            policy=self._policy,
                            resume=state,
                        )
                    )

    async def _enter_review(self, current: ClaimStatus, reason: str, adjudication: list[LineAdjudication]) -> None:
        """Assign an adjuster by the rules, then put the claim in review with an SLA."""
        state = self._state
        assignment = await workflow.execute_activity_method(
            AssignmentActivities.assign_adjuster,
            AssignAdjusterInput(
                claim_id=state.claim_id, payer_id=state.payer_id or "", amount=state.total_charge or Decimal("0")
            ),
            summary="assign adjuster",
            start_to_close_timeout=DB_TIMEOUT,
            retry_policy=DB_RETRY,
        )
        if current is S.SUBMITTED and reason != ReviewReason.REJECTED_BY_PROCESSOR.value:
            if not await self._advance(S.SUBMITTED, S.PENDING, "adjudicated"):
                return
            current = S.PENDING
        state.review_reason = reason
        if adjudication:
            state.adjudication = adjudication
        async with self._lock:
            if state.status is not current:
                return
            state.assigned_adjuster = assignment.adjuster_id
            state.review_due_at = workflow.now() + self._policy.review_sla
            why = f"needs review: {reason}; assigned to {assignment.adjuster_id or 'nobody (no eligible adjuster)'}"
            await self._apply(
                S.IN_REVIEW, why, adjudication=adjudication or None, assigned_adjuster=assignment.adjuster_id
            )

    async def _await_decision(self) -> None:
        """Wait for an adjuster's decision; past the SLA, escalate to a supervisor."""
        state = self._state
        while state.status is S.IN_REVIEW:
            due = state.review_due_at
            can_escalate = due is not None and state.escalations < self._policy.max_escalations
            state.waiting_for = f"a decision from {state.assigned_adjuster or 'a supervisor'}"
            self._show()
            try:
                await workflow.wait_condition(
                    lambda: state.status is not S.IN_REVIEW,
                    timeout=max(due - workflow.now(), timedelta(seconds=1)) if can_escalate and due else None,
                    timeout_summary="review SLA",
                )
            except TimeoutError:
                await self._escalate()

    async def _escalate(self) -> None:
        state = self._state
        previous = state.assigned_adjuster
        assignment = await workflow.execute_activity_method(
            AssignmentActivities.assign_adjuster,
            AssignAdjusterInput(
                claim_id=state.claim_id,
                payer_id=state.payer_id or "",
                amount=state.total_charge or Decimal("0"),
                escalate=True,
                exclude=[previous] if previous else [],
            ),
            summary="escalate to a supervisor",
            start_to_close_timeout=DB_TIMEOUT,
            retry_policy=DB_RETRY,
        )
        async with self._lock:
            if state.status is not S.IN_REVIEW:
                return
            state.escalations += 1
            state.review_due_at = workflow.now() + self._policy.review_sla
            if assignment.adjuster_id:
                state.assigned_adjuster = assignment.adjuster_id
            hours = self._policy.review_sla.total_seconds() / 3600
            reason = f"escalated: no decision within {hours:g}h; assigned to {state.assigned_adjuster or 'nobody'}"
            await self._record(S.IN_REVIEW, reason, actor=ENGINE, assigned_adjuster=state.assigned_adjuster)

    async def _await_information(self) -> None:
        state = self._state
        state.waiting_for = "information from the submitter"
        self._show()
        try:
            await workflow.wait_condition(
                lambda: state.status is not S.INFO_REQUESTED,
                timeout=self._policy.info_deadline,
                timeout_summary="information deadline",
            )
        except TimeoutError:
            days = self._policy.info_deadline.total_seconds() / 86400
            await self._advance(S.INFO_REQUESTED, S.DENIED, f"requested information not received within {days:g} days")

    async def _pay(self) -> None:
        state = self._state
        current = state.status
        lines = [(line.line_number, line.paid) for line in state.adjudication if line.paid > 0]
        if not lines:
            raise ApplicationError("an approved claim has no amount to pay", type="nothing_to_pay", non_retryable=True)
        state.waiting_for = "the payment"
        self._show()
        receipt = await workflow.execute_activity_method(
            ProcessorActivities.issue_payment,
            IssuePaymentInput(
                claim_id=state.claim_id,
                payer_claim_id=state.payer_claim_id or "",
                lines=lines,
                idempotency_key=f"claim-{state.claim_id}-payment",
            ),
            summary="issue payment",
            start_to_close_timeout=PROCESSOR_TIMEOUT,
            retry_policy=PROCESSOR_RETRY,
        )
        state.payment_id = receipt.payment_id
        state.paid_amount = receipt.amount
        payment = RecordPaymentInput(
            claim_id=state.claim_id, payment_id=receipt.payment_id, amount=receipt.amount, paid_at=workflow.now()
        )
        await self._advance(
            current, S.PAID, f"paid {receipt.amount:.2f} ({receipt.payment_id})", payment=payment, defer=True
        )

    # ---- handlers ------------------------------------------------------------------------------

    @workflow.query(name=STATE_QUERY)
    def state(self) -> ClaimState:
        return self._state

    @workflow.signal(name=PROCESSOR_NOTICE_SIGNAL)
    def processor_notice(self, notice: ProcessorNotice) -> None:
        if notice.payer_claim_id == self._state.payer_claim_id:
            self._notified = True

    @workflow.update(name=DECIDE_UPDATE)
    async def decide(self, input: DecideInput) -> UpdateResult:
        async with self._lock:
            self._check_decision(input)  # the state may have moved since the validator ran
            decision = input.decision
            state = self._state
            state.decision_note = decision.note
            actor = input.adjuster_id
            match decision.action:
                case DecisionAction.APPROVE | DecisionAction.PARTIAL:
                    lines = adjudicate(decision, state.lines)
                    state.adjudication = lines
                    target = S.APPROVED if decision.action is DecisionAction.APPROVE else S.PARTIALLY_APPROVED
                    await self._apply(
                        target, f"{decision.action.value} by {actor}", actor=actor, adjudication=lines, by_adjuster=True
                    )
                case DecisionAction.DENY:
                    code = decision.reason_code or next((ln.reason_code for ln in decision.lines if ln.reason_code), "")
                    await self._apply(S.DENIED, f"denied by {actor} (CARC {code})", actor=actor)
                case DecisionAction.REQUEST_INFO:
                    await self._apply(S.INFO_REQUESTED, f"information requested by {actor}", actor=actor)
            return UpdateResult(claim_id=state.claim_id, status=state.status)

    @decide.validator
    def _validate_decide(self, input: DecideInput) -> None:
        self._check_decision(input)

    def _check_decision(self, input: DecideInput) -> None:
        try:
            check_decision(
                input.decision,
                status=self._state.status,
                assigned_adjuster=self._state.assigned_adjuster,
                decided_by=input.adjuster_id,
                decided_by_supervisor=input.supervisor,
                authority_limit=input.authority_limit,
                lines=self._state.lines,
            )
        except DomainError as exc:
            raise refusal(exc) from exc

    @workflow.update(name=CANCEL_UPDATE)
    async def cancel(self, input: CancelInput) -> UpdateResult:
        async with self._lock:
            self._check_cancellable()
            await self._apply(S.CANCELLED, input.reason, actor=input.actor)
        return UpdateResult(claim_id=self._state.claim_id, status=self._state.status)

    @cancel.validator
    def _validate_cancel(self, input: CancelInput) -> None:
        self._check_cancellable()

    def _check_cancellable(self) -> None:
        status = self._state.status
        if status not in CANCELLABLE:
            raise ApplicationError(
                f"a claim that is {status.value} cannot be cancelled"
                + ("; once approved, send a void claim (frequency code 8) instead" if not is_final(status) else ""),
                type="invalid_transition",
                non_retryable=True,
            )

    @workflow.update(name=PROVIDE_INFORMATION_UPDATE)
    async def provide_information(self, input: ProvideInformationInput) -> UpdateResult:
        async with self._lock:
            self._check_information_expected()
            state = self._state
            state.information_note = input.note
            state.review_due_at = workflow.now() + self._policy.review_sla
            await self._apply(S.IN_REVIEW, f"information provided by {input.actor}", actor=input.actor)
        return UpdateResult(claim_id=self._state.claim_id, status=self._state.status)

    @provide_information.validator
    def _validate_provide_information(self, input: ProvideInformationInput) -> None:
        self._check_information_expected()

    def _check_information_expected(self) -> None:
        if self._state.status is not S.INFO_REQUESTED:
            raise ApplicationError(
                f"the claim is {self._state.status.value}; information is taken only when it was requested",
                type="invalid_transition",
                non_retryable=True,
            )

    # ---- recording a status change ---------------------------------------------------------------

    async def _advance(self, expected: ClaimStatus, target: ClaimStatus, reason: str, **details: object) -> bool:
        """Move expected -> target unless a handler moved the claim meanwhile (then do nothing)."""
        async with self._lock:
            if self._state.status is not expected:
                return False
            await self._apply(target, reason, **details)  # type: ignore[arg-type]
            return True

    async def _apply(
        self,
        target: ClaimStatus,
        reason: str,
        *,
        actor: str = ENGINE,
        adjudication: list[LineAdjudication] | None = None,
        validation_errors: list[ValidationIssue] | None = None,
        payer_claim_id: str | None = None,
        assigned_adjuster: str | None = None,
        payment: RecordPaymentInput | None = None,
        by_adjuster: bool = False,
        defer: bool = False,
    ) -> None:
        """Change status (the caller holds the lock); the status machine refuses a move it does not allow."""
        self._state.status = move(self._state.status, target)
        self._state.waiting_for = ""
        await self._record(
            target,
            reason,
            actor=actor,
            adjudication=adjudication,
            validation_errors=validation_errors,
            payer_claim_id=payer_claim_id,
            assigned_adjuster=assigned_adjuster,
            payment=payment,
            by_adjuster=by_adjuster,
            defer=defer,
        )

    async def _record(
        self,
        status: ClaimStatus,
        reason: str,
        *,
        actor: str,
        adjudication: list[LineAdjudication] | None = None,
        validation_errors: list[ValidationIssue] | None = None,
        payer_claim_id: str | None = None,
        assigned_adjuster: str | None = None,
        payment: RecordPaymentInput | None = None,
        by_adjuster: bool = False,
        defer: bool = False,
    ) -> None:
        """Record a status change: history, search attributes, UI details, and the database — now, or, with
        `defer`, by the step that follows at once (which must write `_unrecorded` before anything waits)."""
        state = self._state
        at: datetime = workflow.now()
        seq = len(state.status_history)
        state.status_history.append(StatusChange(seq=seq, status=status, at=at, reason=reason, actor=actor))
        batched = workflow.patched(BATCHED_RECORDS)
        if not (batched and defer):  # a deferred change is gone before anything could search for it
            workflow.upsert_search_attributes(
                [
                    CLAIM_STATUS.value_set(status.value),
                    ASSIGNED_ADJUSTER.value_set(state.assigned_adjuster)
                    if state.assigned_adjuster
                    else ASSIGNED_ADJUSTER.value_unset(),
                ]
            )
        self._show()
        record = RecordStatusInput(
            claim_id=state.claim_id,
            seq=seq,
            status=status,
            reason=reason,
            at=at,
            actor=actor,
            assigned_adjuster=assigned_adjuster,
            payer_claim_id=payer_claim_id,
            validation_errors=validation_errors,
            adjudication=adjudication,
            adjudication_source="adjuster" if by_adjuster else "processor",
            payment=payment,
        )
        if not batched:
            await _step(
                ClaimRecordActivities.record_status,
                record,
                summary=f"record status: {status.value}",
                local_since=LOCAL_STATUS_RECORDS,
            )
            return
        self._unrecorded.append(record)
        if not defer:
            await self._write_unrecorded()

    def _take_unrecorded(self) -> list[RecordStatusInput]:
        """The deferred status changes, for a step that writes them in its own transaction."""
        taken, self._unrecorded = self._unrecorded, []
        return taken

    async def _write_unrecorded(self) -> None:
        """Write the deferred status changes (with the latest), in order, in one transaction."""
        changes = self._take_unrecorded()
        if not changes:
            return
        await workflow.execute_local_activity_method(
            ClaimRecordActivities.record_status_changes,
            RecordStatusChangesInput(changes=changes),
            summary="record status: " + " → ".join(change.status.value for change in changes),
            start_to_close_timeout=DB_TIMEOUT,
            retry_policy=DB_RETRY,
        )

    def _show(self) -> None:
        """The current details the Temporal UI shows: a claim file, not a stack trace."""
        state = self._state
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
            rows.append(
                f"**Processor says:** {state.processor_category.value} {state.processor_message or ''}".rstrip()
            )
        if state.next_poll_at:
            rows.append(f"**Next status poll:** {state.next_poll_at:%Y-%m-%d %H:%M:%S} UTC (poll #{state.polls + 1})")
        if state.review_reason and state.status in (S.IN_REVIEW, S.INFO_REQUESTED):
            rows.append(f"**Review reason:** {state.review_reason}")
        if state.assigned_adjuster:
            rows.append(f"**Adjuster:** {state.assigned_adjuster}")
        if state.review_due_at and state.status is S.IN_REVIEW:
            rows.append(f"**Decision due:** {state.review_due_at:%Y-%m-%d %H:%M} UTC")
        if state.validation_errors:
            rows.append(f"**Validation errors:** {', '.join(sorted({i.rule_id for i in state.validation_errors}))}")
        if state.paid_amount is not None:
            rows.append(f"**Paid:** {state.paid_amount:.2f} ({state.payment_id})")
        workflow.set_current_details("\n\n".join(rows))
