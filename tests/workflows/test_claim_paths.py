"""Every path a claim can take, on fake activities and the time-skipping server: the status path and side effects.

Each test drives one claim down one path; its name, less `test_`, names the path and the history that
`CLAIMFLOW_RECORD_HISTORIES=1` stores under histories/ (test_replay.py replays them, and fails when a path
has none).
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable
from datetime import datetime, timedelta
from decimal import Decimal

import pytest
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner

from activities import contracts
from domain.adjudication import Category
from domain.claim import FrequencyCode
from domain.decision import Decision, DecisionAction, DecisionConflictError, DecisionRefusedError, LineDecision
from domain.integrations import Adapter, IntegrationNotEnabledError
from domain.routing import ReviewReason
from domain.status import ClaimStatus, InformationNotRequestedError, NotCancellableError, NotReadyError
from domain.validation import Severity, ValidationFinding
from tests.workflows.claim_driver import ClaimDriver, claim_id, outcome, refusal, signal_taken, update_events
from tests.workflows.fakes import (
    CHARGE,
    CHECKS_ELIGIBILITY,
    DISABLED,
    ENABLED,
    PAID_IN_FULL,
    PENDING,
    FakeActivities,
    Gate,
    Script,
    answer,
    line,
    payer_claim_id,
)
from workflows.claim import ClaimWorkflow
from workflows.claim_contract import (
    ASSIGNED_ADJUSTER,
    CLAIM_STATUS,
    PROCESSOR_NOTICE_SIGNAL,
    ClaimPolicy,
    ClaimState,
    ProcessorNotice,
)

S = ClaimStatus
A = DecisionAction

RECEIVED_TO_PENDING = [S.RECEIVED, S.VALIDATING, S.SUBMITTED, S.PENDING]
APPROVED_TO_CLOSED = [S.APPROVED, S.PAID, S.CLOSED]
PAID_IN_FULL_PATH = [*RECEIVED_TO_PENDING, *APPROVED_TO_CLOSED]

APPROVE = Decision(action=A.APPROVE, note="documentation complete")
DENY = Decision(action=A.DENY, reason_code="50", note="not medically necessary")
DENIED_BY_PAYER = answer(Category.FINALIZED_DENIED, line(CHARGE, Decimal("0.00"), reason="50"))
#: The real policy's limits and timings; only the tests that continue as new poll fewer times per run.
POLICY = ClaimPolicy()


@pytest.fixture
async def driver(time_skipping_env: WorkflowEnvironment, request: pytest.FixtureRequest) -> AsyncIterator[ClaimDriver]:
    """A worker on the fake activities and a task queue of its own; the path is named after the test."""
    fakes = FakeActivities()
    task_queue = f"paths-{uuid.uuid4()}"
    async with Worker(
        time_skipping_env.client,
        task_queue=task_queue,
        workflows=[ClaimWorkflow],
        activities=fakes.activities(),
        workflow_runner=SandboxedWorkflowRunner(),
    ):
        # A test expected to fail records nothing: its history is no path's.
        xfail = request.node.get_closest_marker("xfail") is not None
        path = None if xfail else request.node.originalname.removeprefix("test_")
        driver = ClaimDriver(time_skipping_env, fakes, task_queue, path)
        try:
            yield driver
        finally:
            await driver.close()


# ---- no human ----------------------------------------------------------------------------------------


async def test_paid_in_full_and_closed_without_a_human(driver: ClaimDriver) -> None:
    handle = await driver.start(policy=POLICY)
    result = await driver.finish(handle)
    state = await driver.assert_path(handle, result, PAID_IN_FULL_PATH)
    assert driver.side_effects(handle) == {"submitted": 1, "paid": 1}
    fakes, claim = driver.fakes, claim_id(handle)
    [submission] = fakes.inputs(contracts.SUBMIT_CLAIM, claim)
    assert submission.idempotency_key == f"claim-{claim}-submission"
    [payment] = fakes.inputs(contracts.ISSUE_PAYMENT, claim)
    assert payment.lines == [(1, CHARGE)]
    assert payment.idempotency_key == f"claim-{claim}-payment"
    assert payment.payer_claim_id == result.payer_claim_id == state.payer_claim_id
    assert result.paid_amount == CHARGE
    assert fakes.inputs(contracts.ASSIGN_ADJUSTER, claim) == []
    # "validating" with the validation, "pending" with the outcome, "paid" with "closed": one transaction each.
    assert [[r.status for r in batch] for batch in fakes.record_batches(claim)] == [
        [S.VALIDATING],
        [S.SUBMITTED],
        [S.PENDING, S.APPROVED],
        [S.PAID, S.CLOSED],
    ]
    attributes = (await handle.describe()).typed_search_attributes
    assert attributes.get(CLAIM_STATUS) == "closed"


async def test_invalid_claim_ends_invalid_and_is_never_submitted(driver: ClaimDriver) -> None:
    error = ValidationFinding(rule_id="total_charge.sum", path="total_charge", params={"expected": "45.00"})
    warning = ValidationFinding(
        rule_id="service_date.timely_filing", path="lines[0].service_date", severity=Severity.WARNING
    )
    handle = await driver.start(Script(errors=[error], warnings=[warning]), POLICY)
    result = await driver.finish(handle)
    state = await driver.assert_path(handle, result, [S.RECEIVED, S.VALIDATING, S.INVALID])
    assert state.validation_errors == [error]
    assert driver.side_effects(handle) == {"submitted": 0, "paid": 0}
    assert driver.fakes.inputs(contracts.POLL_CLAIM_STATUS, claim_id(handle)) == []
    invalid = driver.fakes.status_records(claim_id(handle))[-1]
    assert invalid.reason == "1 validation error"
    assert invalid.details.validation_issues == [error, warning]


# ---- no enabled integration: ready ----------------------------------------------------------------------


async def test_ready_without_an_enabled_integration_then_submitted_once_paid_and_closed(driver: ClaimDriver) -> None:
    """Valid and snapshotted, but its integration is disabled: the claim waits in `ready`, sent nowhere, until an
    operator submits it once the integration is enabled; a second submit is refused and nothing is sent twice."""
    handle = await driver.start(Script(integrations=[DISABLED, ENABLED]), POLICY)
    state = await driver.waiting_in(handle, S.READY)
    assert state.waiting_for == "an operator to submit it once its integration is enabled"
    assert driver.side_effects(handle) == {"submitted": 0, "paid": 0}
    ready = driver.fakes.status_records(claim_id(handle))[-1]
    assert (ready.status, ready.reason) == (
        S.READY,
        "ready: not sent (integration_not_enabled); an operator submits it once it can be",
    )
    assert (await driver.submit(handle)).status in {S.SUBMITTED, S.PENDING}
    again = await refusal(driver.submit(handle))
    assert again.type == NotReadyError.code == "not_ready"
    result = await driver.finish(handle)
    await driver.assert_path(
        handle, result, [S.RECEIVED, S.VALIDATING, S.READY, *RECEIVED_TO_PENDING[2:], *APPROVED_TO_CLOSED]
    )
    assert driver.side_effects(handle) == {"submitted": 1, "paid": 1}
    claim = claim_id(handle)
    [submission] = driver.fakes.inputs(contracts.SUBMIT_CLAIM, claim)
    assert submission.adapter is Adapter.JSON
    assert all(poll.adapter is Adapter.JSON for poll in driver.fakes.inputs(contracts.POLL_CLAIM_STATUS, claim))
    [resolved, resolved_again] = driver.fakes.inputs(contracts.RESOLVE_INTEGRATION, claim)
    assert (
        (resolved.org_id, resolved.payer_id)
        == ("org-paths", "SANDBOX")
        == (
            resolved_again.org_id,
            resolved_again.payer_id,
        )
    )


async def test_ready_submit_refused_while_the_integration_is_disabled_then_cancelled(driver: ClaimDriver) -> None:
    handle = await driver.start(Script(integrations=[DISABLED]), POLICY)
    await driver.waiting_in(handle, S.READY)
    refused = await refusal(driver.submit(handle))
    assert refused.type == IntegrationNotEnabledError.code == "integration_not_enabled"
    assert (await driver.state(handle)).status is S.READY
    assert (await driver.cancel(handle)).status is S.CANCELLED
    result = await driver.finish(handle)
    await driver.assert_path(handle, result, [S.RECEIVED, S.VALIDATING, S.READY, S.CANCELLED])
    assert driver.side_effects(handle) == {"submitted": 0, "paid": 0}


# ---- cancellation ---------------------------------------------------------------------------------------


async def test_cancelled_while_validation_runs_is_never_submitted(driver: ClaimDriver) -> None:
    gate = Gate()
    # Validation is a local activity: it holds the workflow task, and an update reaches the workflow at the
    # task's heartbeat, 80% of its timeout (8 s by default; 1.6 s with this one).
    handle = await driver.start(Script(validation_gate=gate), POLICY, task_timeout=timedelta(seconds=2))
    await gate.entered.wait()
    cancel = asyncio.create_task(driver.cancel(handle))
    await driver.fakes.recorded(claim_id(handle), S.CANCELLED)  # the update ran while validation was held
    gate.open()
    assert (await cancel).status is S.CANCELLED
    result = await driver.finish(handle)
    await driver.assert_path(handle, result, [S.RECEIVED, S.VALIDATING, S.CANCELLED])
    assert driver.side_effects(handle) == {"submitted": 0, "paid": 0}
    cancelled = driver.fakes.status_records(claim_id(handle))[-1]
    assert (cancelled.actor, cancelled.details.note_id) == ("submitter", "note-cancel")


async def test_cancel_refused_once_the_submission_started_and_the_claim_goes_on(driver: ClaimDriver) -> None:
    gate = Gate()
    handle = await driver.start(Script(submission_gate=gate), POLICY)
    await gate.entered.wait()
    refused = await refusal(driver.cancel(handle))
    assert refused.type == NotCancellableError.code == "not_cancellable"
    assert refused.non_retryable
    gate.open()
    result = await driver.finish(handle)
    await driver.assert_path(handle, result, PAID_IN_FULL_PATH)
    assert driver.side_effects(handle) == {"submitted": 1, "paid": 1}


async def test_cancelled_while_in_review(driver: ClaimDriver) -> None:
    handle = await driver.start(Script(answers=[DENIED_BY_PAYER]), POLICY)
    await driver.waiting_in(handle, S.IN_REVIEW)
    assert (await driver.cancel(handle)).status is S.CANCELLED
    result = await driver.finish(handle)
    await driver.assert_path(handle, result, [*RECEIVED_TO_PENDING, S.IN_REVIEW, S.CANCELLED])
    assert driver.side_effects(handle) == {"submitted": 1, "paid": 0}


# ---- review ------------------------------------------------------------------------------------------------


async def test_rejected_at_submission_goes_to_review_and_is_denied(driver: ClaimDriver) -> None:
    handle = await driver.start(Script(submission=Category.REJECTED_INVALID_INFO), POLICY)
    state = await driver.waiting_in(handle, S.IN_REVIEW)
    assert state.review_reason is ReviewReason.REJECTED_BY_PROCESSOR
    assert state.assigned_adjuster == "alice"
    await driver.decide(handle, DENY.model_copy(update={"reason_code": "16"}), by="alice")
    result = await driver.finish(handle)
    await driver.assert_path(handle, result, [S.RECEIVED, S.VALIDATING, S.SUBMITTED, S.IN_REVIEW, S.DENIED])
    assert driver.side_effects(handle) == {"submitted": 1, "paid": 0}
    assert driver.fakes.inputs(contracts.POLL_CLAIM_STATUS, claim_id(handle)) == []
    assert result.paid_amount is None


async def test_partially_paid_goes_to_review_then_partially_approved_paid_and_closed(driver: ClaimDriver) -> None:
    charges = [Decimal("45.00"), Decimal("30.00")]
    partly = answer(
        Category.FINALIZED_PAID,
        line(charges[0], Decimal("36.00"), reason="45"),
        line(charges[1], charges[1], number=2),
    )
    handle = await driver.start(Script(charges=charges, answers=[partly]), POLICY)
    state = await driver.waiting_in(handle, S.IN_REVIEW)
    assert state.review_reason is ReviewReason.PARTIALLY_PAID
    assert [ln.paid for ln in state.adjudication] == [Decimal("36.00"), Decimal("30.00")]
    partial = Decision(
        action=A.PARTIAL,
        lines=[
            LineDecision(line_number=1, approved_amount=Decimal("36.00"), reason_code="45"),
            LineDecision(line_number=2, approved_amount=Decimal("30.00")),
        ],
        note="contract rate",
    )
    assert (await driver.decide(handle, partial, by="alice")).status is S.PARTIALLY_APPROVED
    result = await driver.finish(handle)
    await driver.assert_path(
        handle, result, [*RECEIVED_TO_PENDING, S.IN_REVIEW, S.PARTIALLY_APPROVED, S.PAID, S.CLOSED]
    )
    assert driver.side_effects(handle) == {"submitted": 1, "paid": 1}
    [payment] = driver.fakes.inputs(contracts.ISSUE_PAYMENT, claim_id(handle))
    assert payment.lines == [(1, Decimal("36.00")), (2, Decimal("30.00"))]
    assert result.paid_amount == Decimal("66.00")


async def test_denied_by_the_payer_goes_to_review_and_the_adjuster_denies(driver: ClaimDriver) -> None:
    handle = await driver.start(Script(answers=[DENIED_BY_PAYER]), POLICY)
    state = await driver.waiting_in(handle, S.IN_REVIEW)
    assert state.review_reason is ReviewReason.DENIED_BY_PAYER
    assert (await driver.decide(handle, DENY, by="alice")).status is S.DENIED
    result = await driver.finish(handle)
    await driver.assert_path(handle, result, [*RECEIVED_TO_PENDING, S.IN_REVIEW, S.DENIED])
    assert driver.side_effects(handle) == {"submitted": 1, "paid": 0}
    denied = driver.fakes.status_records(claim_id(handle))[-1]
    assert (denied.actor, denied.reason) == ("alice", "denied by alice (CARC 50)")
    # the denial posts to the ledger as the adjuster's adjudication: nothing paid, the charge adjusted CO-50
    assert denied.details.adjudicated_by_adjuster
    assert denied.details.adjudication == [line(CHARGE, Decimal("0.00"), reason="50")]


async def test_paid_in_full_above_the_auto_approval_limit_goes_to_review_and_is_approved(driver: ClaimDriver) -> None:
    big = Decimal("1500.00")
    handle = await driver.start(
        Script(charges=[big], answers=[answer(Category.FINALIZED_PAID, line(big, big))]), POLICY
    )
    state = await driver.waiting_in(handle, S.IN_REVIEW)
    assert state.review_reason is ReviewReason.ABOVE_AUTO_APPROVAL_LIMIT
    await driver.decide(handle, APPROVE, by="alice")
    result = await driver.finish(handle)
    await driver.assert_path(handle, result, [*RECEIVED_TO_PENDING, S.IN_REVIEW, *APPROVED_TO_CLOSED])
    assert result.paid_amount == big


async def test_no_answer_by_the_poll_deadline_goes_to_review_and_is_denied(driver: ClaimDriver) -> None:
    handle = await driver.start(Script(answers=[PENDING]), POLICY)
    state = await driver.waiting_in(handle, S.IN_REVIEW, skip=timedelta(days=1))
    assert state.review_reason is ReviewReason.NO_ANSWER_BY_DEADLINE
    assert state.polls > 150  # 2 s doubling to a 4 h cap over 30 days
    submitted, review = state.status_history[2], state.status_history[-1]
    assert POLICY.poll_deadline <= review.at - submitted.at < POLICY.poll_deadline + timedelta(minutes=1)
    await driver.decide(handle, DENY, by="alice")
    result = await driver.finish(handle)
    await driver.assert_path(handle, result, [*RECEIVED_TO_PENDING, S.IN_REVIEW, S.DENIED])


async def test_information_requested_then_provided_then_approved_paid_and_closed(driver: ClaimDriver) -> None:
    handle = await driver.start(Script(answers=[answer(Category.PENDING_INFO_FROM_PROVIDER)]), POLICY)
    state = await driver.waiting_in(handle, S.IN_REVIEW)
    assert state.review_reason is ReviewReason.INFORMATION_REQUESTED_BY_PAYER
    not_asked = await refusal(driver.provide_information(handle))
    assert not_asked.type == InformationNotRequestedError.code
    ask = Decision(action=A.REQUEST_INFO, note="send the requisition")
    assert (await driver.decide(handle, ask, by="alice")).status is S.INFO_REQUESTED
    assert (await driver.provide_information(handle)).status is S.IN_REVIEW
    state = await driver.waiting_in(handle, S.IN_REVIEW, skip=None)
    assert state.assigned_adjuster == "alice"
    await driver.decide(handle, APPROVE, by="alice")
    result = await driver.finish(handle)
    await driver.assert_path(
        handle,
        result,
        [*RECEIVED_TO_PENDING, S.IN_REVIEW, S.INFO_REQUESTED, S.IN_REVIEW, *APPROVED_TO_CLOSED],
    )
    assert driver.side_effects(handle) == {"submitted": 1, "paid": 1}


async def test_information_not_provided_by_the_deadline_is_denied(driver: ClaimDriver) -> None:
    handle = await driver.start(Script(answers=[answer(Category.PENDING_INFO_FROM_PROVIDER)]), POLICY)
    await driver.waiting_in(handle, S.IN_REVIEW)
    await driver.decide(handle, Decision(action=A.REQUEST_INFO, note="send the requisition"), by="alice")
    result = await driver.finish(handle)  # the 30 days pass in skipped time
    state = await driver.assert_path(handle, result, [*RECEIVED_TO_PENDING, S.IN_REVIEW, S.INFO_REQUESTED, S.DENIED])
    asked, denied = state.status_history[-2:]
    assert POLICY.info_deadline <= denied.at - asked.at < POLICY.info_deadline + timedelta(minutes=1)
    assert denied.reason == "requested information not received within 30 days"
    assert driver.side_effects(handle) == {"submitted": 1, "paid": 0}
    # the deadline's denial posts to the ledger too: nothing paid, the charge adjusted CO-16 (lacks information)
    [recorded] = [r for r in driver.fakes.status_records(claim_id(handle)) if r.status is S.DENIED]
    assert recorded.details.adjudicated_by_adjuster
    assert recorded.details.adjudication == [line(CHARGE, Decimal("0.00"), reason="16")]


def escalated_times(n: int) -> Callable[[ClaimState], bool]:
    """The claim escalated `n` times and waits for the decision again."""
    return lambda state: state.escalations == n and bool(state.waiting_for)


async def test_review_past_its_sla_escalates_twice_to_the_cap_with_a_new_assignee_each_time(
    driver: ClaimDriver,
) -> None:
    assert POLICY.max_escalations == 2
    handle = await driver.start(Script(answers=[DENIED_BY_PAYER], assignees=["alice", "carol", "dave"]), POLICY)
    state = await driver.waiting_in(handle, S.IN_REVIEW)
    entered = state.status_history[-1].at
    for escalations, assignee in ((1, "carol"), (2, "dave")):
        await driver.env.sleep(POLICY.review_sla)
        state = await driver.wait_for(handle, escalated_times(escalations))
        assert state.assigned_adjuster == assignee
        escalated = state.status_history[-1]
        assert escalated.status is S.IN_REVIEW
        assert escalated.reason == f"escalated: no decision within 48h; assigned to {assignee}"
        due = entered + escalations * POLICY.review_sla
        assert due <= escalated.at < due + timedelta(minutes=1)
    await driver.env.sleep(timedelta(days=30))  # at the cap: no third escalation however long it waits
    state = await driver.state(handle)
    assert (state.status, state.escalations, state.assigned_adjuster) == (S.IN_REVIEW, 2, "dave")
    attributes = (await handle.describe()).typed_search_attributes
    assert attributes.get(ASSIGNED_ADJUSTER) == "dave"
    assignments = driver.fakes.inputs(contracts.ASSIGN_ADJUSTER, claim_id(handle))
    assert [(a.escalate, a.exclude) for a in assignments] == [(False, []), (True, ["alice"]), (True, ["carol"])]
    no_longer = await refusal(driver.decide(handle, APPROVE, by="alice"))
    assert no_longer.type == DecisionConflictError.code
    await driver.decide(handle, APPROVE, by="dave", supervisor=True)
    result = await driver.finish(handle)
    await driver.assert_path(
        handle, result, [*RECEIVED_TO_PENDING, S.IN_REVIEW, S.IN_REVIEW, S.IN_REVIEW, *APPROVED_TO_CLOSED]
    )
    assert [r.details.assigned_adjuster for r in driver.fakes.status_records(claim_id(handle))[3:6]] == [
        "alice",
        "carol",
        "dave",
    ]


# ---- polling ----------------------------------------------------------------------------------------------


async def test_continue_as_new_while_polling_answers_an_update_sent_at_the_switch(
    driver: ClaimDriver,
) -> None:
    switch = Gate()  # the third poll: the last of the first run
    policy = ClaimPolicy(polls_per_run=3)
    handle = await driver.start(Script(answers=[*[PENDING] * 7, PAID_IN_FULL], poll_gates={3: switch}), policy)
    while not switch.entered.is_set():
        await driver.env.sleep(timedelta(seconds=1))
    first_run = (await handle.describe()).run_id
    # While the poll that ends the run is held (and with it the workflow task: no query now), a cancellation
    # and a processor notice arrive.
    cancel = asyncio.create_task(driver.cancel(handle))
    await handle.signal(PROCESSOR_NOTICE_SIGNAL, ProcessorNotice(payer_claim_id=payer_claim_id(claim_id(handle))))
    await asyncio.sleep(0.2)
    switch.open()
    refused = await refusal(cancel)  # answered, not lost: the processor has the claim
    assert refused.type == NotCancellableError.code
    result = await driver.finish(handle)
    state = await driver.assert_path(handle, result, PAID_IN_FULL_PATH)
    assert driver.side_effects(handle) == {"submitted": 1, "paid": 1}
    # Every poll answer the workflow took counts, across runs (a poll whose workflow task the server
    # refused because the notice came meanwhile runs again: the fake answers each call).
    polled = len(driver.fakes.inputs(contracts.POLL_CLAIM_STATUS, claim_id(handle)))
    assert 7 <= state.polls <= polled
    assert len(await driver.runs(handle)) == 3  # 3 polls per run
    assert (await handle.describe()).run_id != first_run


async def test_processor_notice_cuts_a_long_poll_wait_short(driver: ClaimDriver) -> None:
    pending = 12  # the wait after the 12th poll is 2 s * 2^12, over two hours
    handle = await driver.start(Script(answers=[*[PENDING] * pending, PAID_IN_FULL]), POLICY)
    state = await driver.wait_for(
        handle, lambda s: s.polls == pending and s.next_poll_at is not None, skip=timedelta(minutes=10)
    )
    assert state.next_poll_at is not None
    notice_at = await driver.env.get_current_time()
    assert state.next_poll_at - notice_at > timedelta(hours=2)
    # A notice about another claim wakes nothing.
    await handle.signal(PROCESSOR_NOTICE_SIGNAL, ProcessorNotice(payer_claim_id="PCN-someone-else"))
    await asyncio.sleep(0.3)
    assert (await driver.state(handle)).polls == pending
    notice = ProcessorNotice(payer_claim_id=payer_claim_id(claim_id(handle)), category=Category.FINALIZED_PAID)
    await handle.signal(PROCESSOR_NOTICE_SIGNAL, notice)
    state = await driver.wait_for(handle, lambda s: s.polls == pending + 1, skip=None)
    approved = next(change for change in state.status_history if change.status is S.APPROVED)
    assert approved.at - notice_at < timedelta(minutes=1)
    result = await driver.finish(handle)
    await driver.assert_path(handle, result, PAID_IN_FULL_PATH)


async def notice_during_the_sixth_poll(driver: ClaimDriver, policy: ClaimPolicy) -> tuple[datetime, ClaimState]:
    """A notice that arrives while the 6th poll runs, and is taken by the workflow before that poll answers
    (pending); the 7th answers paid. When the notice came, and the claim at its end."""
    sixth = Gate()
    # A poll is a local activity: the notice reaches the workflow at the task's heartbeat (1.6 s with this timeout).
    handle = await driver.start(
        Script(answers=[*[PENDING] * 6, PAID_IN_FULL], poll_gates={6: sixth}), policy, task_timeout=timedelta(seconds=2)
    )
    while not sixth.entered.is_set():
        await driver.env.sleep(timedelta(seconds=2))
    notice_at = await driver.env.get_current_time()
    await handle.signal(PROCESSOR_NOTICE_SIGNAL, ProcessorNotice(payer_claim_id=payer_claim_id(claim_id(handle))))
    await signal_taken(handle)
    sixth.open()
    result = await driver.finish(handle)
    return notice_at, await driver.assert_path(handle, result, PAID_IN_FULL_PATH)


async def test_processor_notice_during_a_poll_is_followed_by_another_poll_at_once(driver: ClaimDriver) -> None:
    notice_at, state = await notice_during_the_sixth_poll(driver, POLICY)
    approved = next(change for change in state.status_history if change.status is S.APPROVED)
    assert approved.at - notice_at < timedelta(minutes=1)  # not after the 128 s back-off


async def test_processor_notice_during_the_last_poll_of_a_run_survives_continue_as_new(driver: ClaimDriver) -> None:
    notice_at, state = await notice_during_the_sixth_poll(driver, ClaimPolicy(polls_per_run=6))
    approved = next(change for change in state.status_history if change.status is S.APPROVED)
    assert approved.at - notice_at < timedelta(minutes=1)  # actual: after the 128 s back-off, in the next run


# ---- decisions ------------------------------------------------------------------------------------------


async def test_two_concurrent_decisions_exactly_one_wins(driver: ClaimDriver) -> None:
    handle = await driver.start(Script(answers=[DENIED_BY_PAYER]), POLICY)
    await driver.waiting_in(handle, S.IN_REVIEW)
    results = await asyncio.gather(
        driver.decide(handle, APPROVE, by="alice"),
        driver.decide(handle, DENY, by="carol", supervisor=True),
        return_exceptions=True,
    )
    [taken], refused = outcome(results)
    assert refused == [DecisionConflictError.code]
    result = await driver.finish(handle)
    if taken.status is S.APPROVED:
        await driver.assert_path(handle, result, [*RECEIVED_TO_PENDING, S.IN_REVIEW, *APPROVED_TO_CLOSED])
        assert driver.side_effects(handle) == {"submitted": 1, "paid": 1}
    else:
        assert taken.status is S.DENIED
        await driver.assert_path(handle, result, [*RECEIVED_TO_PENDING, S.IN_REVIEW, S.DENIED])
        assert driver.side_effects(handle) == {"submitted": 1, "paid": 0}


async def test_decision_racing_a_cancel_exactly_one_takes_effect(driver: ClaimDriver) -> None:
    handle = await driver.start(Script(answers=[DENIED_BY_PAYER]), POLICY)
    await driver.waiting_in(handle, S.IN_REVIEW)
    results = await asyncio.gather(
        driver.decide(handle, APPROVE, by="alice"), driver.cancel(handle), return_exceptions=True
    )
    [taken], refused = outcome(results)
    result = await driver.finish(handle)
    if taken.status is S.APPROVED:
        assert refused == [NotCancellableError.code]
        await driver.assert_path(handle, result, [*RECEIVED_TO_PENDING, S.IN_REVIEW, *APPROVED_TO_CLOSED])
        assert driver.side_effects(handle) == {"submitted": 1, "paid": 1}
    else:
        assert taken.status is S.CANCELLED
        assert refused == [DecisionConflictError.code]
        await driver.assert_path(handle, result, [*RECEIVED_TO_PENDING, S.IN_REVIEW, S.CANCELLED])
        assert driver.side_effects(handle) == {"submitted": 1, "paid": 0}


async def test_approval_above_the_adjusters_authority_is_recommended_then_confirmed_by_a_supervisor(
    driver: ClaimDriver,
) -> None:
    """Two-step approval: alice's approval above her limit is a recommendation (the claim stays in review and goes
    to a supervisor, carol); alice cannot confirm it herself (four eyes); carol's confirm approves what alice
    recommended, and it is paid once."""
    handle = await driver.start(Script(answers=[DENIED_BY_PAYER]), POLICY)
    await driver.waiting_in(handle, S.IN_REVIEW)
    recommended = await driver.decide(handle, APPROVE, by="alice", authority_limit=Decimal("40.00"))
    assert (recommended.status, recommended.awaiting_second_approval) == (S.IN_REVIEW, True)
    assert recommended.assigned_adjuster == "carol"
    state = await driver.state(handle)
    assert state.recommendation is not None and state.recommendation.recommended_by == "alice"
    assert state.recommendation.amount == CHARGE
    [escalation] = [i for i in driver.fakes.inputs(contracts.ASSIGN_ADJUSTER, claim_id(handle)) if i.escalate]
    assert escalation.exclude == ["alice"]
    own = await refusal(driver.decide(handle, Decision(action=A.CONFIRM), by="alice", supervisor=True))
    assert own.type == DecisionConflictError.code and "four eyes" in own.message
    confirmed = await driver.decide(
        handle, Decision(action=A.CONFIRM), by="carol", supervisor=True, authority_limit=None
    )
    assert (confirmed.status, confirmed.awaiting_second_approval) == (S.APPROVED, False)
    result = await driver.finish(handle)
    # in review: entered; the recommendation; its assignment to carol
    review = [S.IN_REVIEW, S.IN_REVIEW, S.IN_REVIEW]
    state = await driver.assert_path(handle, result, [*RECEIVED_TO_PENDING, *review, *APPROVED_TO_CLOSED])
    assert result.paid_amount == CHARGE
    assert driver.side_effects(handle) == {"submitted": 1, "paid": 1}
    reasons = [change.reason for change in state.status_history]
    assert "approve 45.00 recommended by alice: above their authority; waits for a supervisor" in reasons
    assert "approve by carol (recommended by alice, confirmed)" in reasons


async def test_recommendation_changed_by_the_supervisor_pays_the_supervisors_amounts(driver: ClaimDriver) -> None:
    """The supervisor may change the recommendation: a partial approval replaces alice's full one."""
    handle = await driver.start(Script(answers=[DENIED_BY_PAYER]), POLICY)
    await driver.waiting_in(handle, S.IN_REVIEW)
    await driver.decide(handle, APPROVE, by="alice", authority_limit=Decimal("40.00"))
    bob = await refusal(driver.decide(handle, Decision(action=A.CONFIRM), by="bob"))
    assert bob.type == DecisionConflictError.code and "waits for a supervisor" in bob.message
    partial = Decision(
        action=A.PARTIAL, lines=[LineDecision(line_number=1, approved_amount=Decimal("30.00"), reason_code="45")]
    )
    changed = await driver.decide(handle, partial, by="carol", supervisor=True, authority_limit=None)
    assert changed.status is S.PARTIALLY_APPROVED
    result = await driver.finish(handle)
    assert result.paid_amount == Decimal("30.00")
    state = await driver.state(handle)
    assert state.recommendation is None
    assert "partial by carol (over alice's recommendation)" in [change.reason for change in state.status_history]


async def test_confirm_without_a_recommendation_is_refused_and_leaves_no_trace(driver: ClaimDriver) -> None:
    handle = await driver.start(Script(answers=[DENIED_BY_PAYER]), POLICY)
    await driver.waiting_in(handle, S.IN_REVIEW)
    records = driver.fakes.status_records(claim_id(handle))
    refused = await refusal(driver.decide(handle, Decision(action=A.CONFIRM), by="carol", supervisor=True))
    assert refused.type == DecisionConflictError.code and "nothing to confirm" in refused.message
    assert update_events(await handle.fetch_history()) == []
    assert driver.fakes.status_records(claim_id(handle)) == records
    await driver.cancel(handle)
    await driver.finish(handle)


async def test_reassigned_by_a_supervisor_the_sla_starts_again_for_the_new_adjuster(driver: ClaimDriver) -> None:
    """Named, then by the rules (anyone but the current one): each a status record with the new assignee, and a
    new review due time; reassigning to the current assignee is refused."""
    handle = await driver.start(Script(answers=[DENIED_BY_PAYER]), POLICY)
    before = await driver.waiting_in(handle, S.IN_REVIEW)
    assert before.assigned_adjuster == "alice" and before.review_due_at is not None
    await driver.env.sleep(timedelta(hours=5))
    named = await driver.reassign(handle, "dave")
    after = await driver.state(handle)
    assert (named.assigned_adjuster, after.assigned_adjuster) == ("dave", "dave")
    assert after.assignment_rule is None  # named by the supervisor, not chosen by a rule
    assert after.review_due_at is not None and after.review_due_at >= before.review_due_at + timedelta(hours=5)
    same = await refusal(driver.reassign(handle, "dave"))
    assert same.type == "reassign_conflict"
    by_rules = await driver.reassign(handle, None)
    [*_, last] = driver.fakes.inputs(contracts.ASSIGN_ADJUSTER, claim_id(handle))
    assert last.exclude == ["dave"] and not last.escalate
    assert by_rules.assigned_adjuster == "carol"  # the script's second assignee
    state = await driver.state(handle)
    assert [c.reason for c in state.status_history][-2:] == [
        "reassigned from alice to dave by supervisor:carol",
        "reassigned from dave to carol by supervisor:carol",
    ]
    await driver.decide(handle, DENY, by="carol")
    result = await driver.finish(handle)
    assert result.status is S.DENIED


async def test_approve_with_only_zero_amounts_is_refused_and_leaves_no_trace(driver: ClaimDriver) -> None:
    handle = await driver.start(Script(answers=[DENIED_BY_PAYER]), POLICY)
    await driver.waiting_in(handle, S.IN_REVIEW)
    records = driver.fakes.status_records(claim_id(handle))
    nothing = Decision(
        action=A.APPROVE, lines=[LineDecision(line_number=1, approved_amount=Decimal("0.00"), reason_code="45")]
    )
    refused = await refusal(driver.decide(handle, nothing, by="alice"))
    assert refused.type == DecisionRefusedError.code
    assert update_events(await handle.fetch_history()) == []
    assert driver.fakes.status_records(claim_id(handle)) == records
    await driver.decide(handle, APPROVE, by="alice")
    result = await driver.finish(handle)
    await driver.assert_path(handle, result, [*RECEIVED_TO_PENDING, S.IN_REVIEW, *APPROVED_TO_CLOSED])
    assert driver.side_effects(handle) == {"submitted": 1, "paid": 1}


# ---- corrections and voids ------------------------------------------------------------------------------

ORIGINAL_CLAIM_ID = "0" * 32


async def test_replacement_accepted_marks_its_original_replaced_then_is_paid_and_closed(driver: ClaimDriver) -> None:
    """A replacement (frequency 7) the processor accepts has its original marked replaced, once, right after the
    submission (before any poll), then follows the processor to payment like any claim."""
    script = Script(frequency_code=FrequencyCode.REPLACEMENT, original_claim_id=ORIGINAL_CLAIM_ID)
    handle = await driver.start(script, POLICY)
    result = await driver.finish(handle)
    await driver.assert_path(handle, result, PAID_IN_FULL_PATH)
    fakes, claim = driver.fakes, claim_id(handle)
    [marked] = fakes.inputs(contracts.MARK_ORIGINAL, claim)
    assert marked.outcome is S.REPLACED
    order = [call.activity for call in fakes.calls if call.claim_id == claim]
    assert order.index(contracts.MARK_ORIGINAL.name) < order.index(contracts.POLL_CLAIM_STATUS.name)
    assert order.index(contracts.SUBMIT_CLAIM.name) < order.index(contracts.MARK_ORIGINAL.name)
    assert driver.side_effects(handle) == {"submitted": 1, "paid": 1}


async def test_void_accepted_marks_its_original_voided_and_closes_without_polling(driver: ClaimDriver) -> None:
    """A void (frequency 8) the processor accepts has its original marked voided and closes at once, with the void's
    reason note on its closing change: nothing to poll, nothing to pay."""
    script = Script(frequency_code=FrequencyCode.VOID, original_claim_id=ORIGINAL_CLAIM_ID, void_note_id="n" * 32)
    handle = await driver.start(script, POLICY)
    result = await driver.finish(handle)
    await driver.assert_path(handle, result, [S.RECEIVED, S.VALIDATING, S.SUBMITTED, S.CLOSED])
    fakes, claim = driver.fakes, claim_id(handle)
    [marked] = fakes.inputs(contracts.MARK_ORIGINAL, claim)
    assert marked.outcome is S.VOIDED
    assert fakes.inputs(contracts.POLL_CLAIM_STATUS, claim) == []
    assert driver.side_effects(handle) == {"submitted": 1, "paid": 0}
    closed = fakes.status_records(claim)[-1]
    assert closed.reason == f"void accepted by the processor; claim {ORIGINAL_CLAIM_ID} voided"
    assert closed.details.note_id == "n" * 32


async def test_replacement_rejected_at_submission_leaves_its_original_alone(driver: ClaimDriver) -> None:
    """A replacement the processor rejects goes to review like any rejected claim; its original is not marked."""
    script = Script(
        frequency_code=FrequencyCode.REPLACEMENT,
        original_claim_id=ORIGINAL_CLAIM_ID,
        submission=Category.REJECTED_INVALID_INFO,
    )
    handle = await driver.start(script, POLICY)
    await driver.waiting_in(handle, S.IN_REVIEW)
    assert driver.fakes.inputs(contracts.MARK_ORIGINAL, claim_id(handle)) == []
    assert (await driver.cancel(handle)).status is S.CANCELLED
    result = await driver.finish(handle)
    await driver.assert_path(handle, result, [S.RECEIVED, S.VALIDATING, S.SUBMITTED, S.IN_REVIEW, S.CANCELLED])


# ---- eligibility before submission --------------------------------------------------------------------


async def test_eligible_member_is_checked_then_submitted_paid_and_closed(driver: ClaimDriver) -> None:
    handle = await driver.start(Script(integrations=[CHECKS_ELIGIBILITY]), POLICY)
    result = await driver.finish(handle)
    state = await driver.assert_path(handle, result, PAID_IN_FULL_PATH)
    [check] = driver.fakes.inputs(contracts.CHECK_ELIGIBILITY, claim_id(handle))
    assert (check.claim_id, check.adapter) == (claim_id(handle), Adapter.X12)
    assert state.validation_warnings == []
    assert driver.side_effects(handle) == {"submitted": 1, "paid": 1}


async def test_integration_without_the_check_never_asks(driver: ClaimDriver) -> None:
    handle = await driver.start(Script(), POLICY)
    result = await driver.finish(handle)
    await driver.assert_path(handle, result, PAID_IN_FULL_PATH)
    assert driver.fakes.inputs(contracts.CHECK_ELIGIBILITY, claim_id(handle)) == []


async def test_inactive_coverage_goes_to_review_unsent_and_the_adjuster_denies(driver: ClaimDriver) -> None:
    script = Script(integrations=[CHECKS_ELIGIBILITY], eligibility=contracts.EligibilityCheck(active=False))
    handle = await driver.start(script, POLICY)
    state = await driver.waiting_in(handle, S.IN_REVIEW)
    assert state.review_reason is ReviewReason.COVERAGE_INACTIVE
    assert state.status_history[-1].reason == "needs review: coverage_inactive; assigned to alice"
    # never sent, so there is nothing the payer could pay: approving is refused, denying is not
    refused = await refusal(driver.decide(handle, APPROVE, by="alice"))
    assert refused.type == "claim_not_submitted"
    await driver.decide(handle, Decision(action=A.DENY, reason_code="27", note="coverage ended"), by="alice")
    result = await driver.finish(handle)
    await driver.assert_path(handle, result, [S.RECEIVED, S.VALIDATING, S.IN_REVIEW, S.DENIED])
    assert driver.side_effects(handle) == {"submitted": 0, "paid": 0}


async def test_demographic_mismatch_is_a_warning_and_the_claim_goes_on(driver: ClaimDriver) -> None:
    check = contracts.EligibilityCheck(active=True, mismatches=["last_name", "date_of_birth"])
    handle = await driver.start(Script(integrations=[CHECKS_ELIGIBILITY], eligibility=check), POLICY)
    result = await driver.finish(handle)
    state = await driver.assert_path(handle, result, PAID_IN_FULL_PATH)
    mismatch = ValidationFinding(
        rule_id="eligibility.mismatch",
        path="patient",
        severity=Severity.WARNING,
        params={"fields": "last_name,date_of_birth"},
    )
    assert state.validation_warnings == [mismatch]
    submitted = next(r for r in driver.fakes.status_records(claim_id(handle)) if r.status is S.SUBMITTED)
    assert submitted.details.validation_issues == [mismatch]


async def test_payer_down_for_the_eligibility_check_is_retried_then_the_claim_goes_on_unchecked(
    driver: ClaimDriver,
) -> None:
    handle = await driver.start(Script(integrations=[CHECKS_ELIGIBILITY], eligibility=None), POLICY)
    result = await driver.finish(handle)
    state = await driver.assert_path(handle, result, PAID_IN_FULL_PATH)
    assert len(driver.fakes.inputs(contracts.CHECK_ELIGIBILITY, claim_id(handle))) > 1  # retried
    unchecked = ValidationFinding(rule_id="eligibility.unchecked", path="insurance.payer_id", severity=Severity.WARNING)
    assert state.validation_warnings == [unchecked]
    validating, submitted = state.status_history[1:3]
    assert submitted.at - validating.at <= POLICY.eligibility_deadline + timedelta(minutes=1)
    assert driver.side_effects(handle) == {"submitted": 1, "paid": 1}
