"""Claim use cases behind the routes: intake and start, read, decide, cancel, inform."""

from __future__ import annotations

import asyncio
import hashlib
import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from temporalio.client import WorkflowHandle, WorkflowUpdateFailedError
from temporalio.common import (
    SearchAttributePair,
    TypedSearchAttributes,
    WorkflowIDConflictPolicy,
    WorkflowIDReusePolicy,
)
from temporalio.exceptions import ApplicationError, WorkflowAlreadyStartedError
from temporalio.service import RPCError, RPCStatusCode

from activities.claim_checks import check_claim
from api.auth import Principal, Role
from api.deps import ApiContext
from api.errors import Conflict, Forbidden, NotFound, Unavailable, Unprocessable
from api.schemas.claims import (
    ClaimAccepted,
    ClaimLineRead,
    ClaimRead,
    LineAdjudicationRead,
    PaymentRead,
    StatusHistoryEntry,
    ValidationResult,
)
from db.records import ClaimRecord
from db.uow import UnitOfWork
from domain.claim import Claim
from domain.decision import Decision
from domain.status import ClaimStatus, is_final
from domain.validation import Severity, ValidationIssue
from workflows.claim_contract import (
    CANCEL_UPDATE,
    CLAIM_STATUS,
    DECIDE_UPDATE,
    PAYER_ID,
    PROCESSOR_NOTICE_SIGNAL,
    PROVIDE_INFORMATION_UPDATE,
    STATE_QUERY,
    WORKFLOW_NAME,
    CancelInput,
    ClaimState,
    ClaimWorkflowInput,
    DecideInput,
    ProcessorNotice,
    ProvideInformationInput,
    UpdateResult,
    workflow_id,
)


class TemporalUnavailable(Unavailable):
    code = "workflow_service_unavailable"

    def __init__(self) -> None:
        super().__init__(
            "the workflow service did not answer; retry shortly with the same Idempotency-Key — "
            "a claim already recorded is not duplicated",
            headers={"Retry-After": "2"},
        )


#: Namespace for claim ids derived from an Idempotency-Key.
CLAIM_ID_NAMESPACE = uuid.UUID("6f0c1f0e-8a4b-4d2b-9a53-3c1f3e2b7d10")
QUERY_TIMEOUT = timedelta(seconds=5)


def request_hash(claim: Claim) -> str:
    canonical = json.dumps(claim.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def claim_id_for(org_id: str, idempotency_key: str | None) -> str:
    """The same organization and key always name the same claim; no key, a fresh id."""
    if idempotency_key is None:
        return uuid.uuid4().hex
    return uuid.uuid5(CLAIM_ID_NAMESPACE, f"{org_id}\x1f{idempotency_key}").hex


def org_of(principal: Principal, requested_org: str | None = None) -> str:
    if principal.role is Role.SUBMITTER:
        assert principal.org is not None
        return principal.org
    return requested_org or principal.org or principal.sub


async def submit(
    context: ApiContext, uow: UnitOfWork, principal: Principal, claim: Claim, idempotency_key: str | None
) -> tuple[ClaimAccepted, bool]:
    """Record the intent (commit), then start the workflow; a retry with the same key finds both."""
    org_id = org_of(principal)
    claim_id = claim_id_for(org_id, idempotency_key)
    digest = request_hash(claim)
    now = datetime.now(UTC)
    intake = await uow.claims.intake(
        claim_id=claim_id,
        org_id=org_id,
        idempotency_key=idempotency_key,
        request_hash=digest,
        claim=claim,
        received_at=now,
    )
    await uow.commit()
    if not intake.created and intake.request_hash != digest:
        raise Conflict(
            "this Idempotency-Key was already used with a different claim body; "
            "send the original body to see that claim, or use a new key for a new claim"
        )
    record = await uow.claims.get_record(intake.claim_id) if not intake.created else None
    received_at = record.created_at if record else now
    await start_workflow(context, intake.claim_id, org_id, claim, received_at)
    status = record.status if record else ClaimStatus.RECEIVED
    return ClaimAccepted(
        claim_id=intake.claim_id, status=status, workflow_id=workflow_id(intake.claim_id)
    ), intake.created


async def start_workflow(context: ApiContext, claim_id: str, org_id: str, claim: Claim, received_at: datetime) -> None:
    lines = len(claim.lines)
    try:
        await context.temporal.start_workflow(
            WORKFLOW_NAME,
            ClaimWorkflowInput(claim_id=claim_id, org_id=org_id, received_at=received_at, policy=context.config.policy),
            id=workflow_id(claim_id),
            task_queue=context.config.task_queue,
            id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
            id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
            search_attributes=TypedSearchAttributes(
                [
                    SearchAttributePair(CLAIM_STATUS, ClaimStatus.RECEIVED.value),
                    SearchAttributePair(PAYER_ID, claim.insurance.payer_id),
                ]
            ),
            static_summary=f"Claim {claim_id[:8]} · payer {claim.insurance.payer_id} · {lines} line{'s' if lines != 1 else ''} · {claim.total_charge:.2f}",
            static_details=(
                f"**Claim id:** {claim_id}\n\n**Organization:** {org_id}\n\n**Payer:** {claim.insurance.payer_id}\n\n"
                f"**Billed:** {claim.total_charge:.2f} on {lines} line(s)\n\n**Frequency code:** {claim.frequency_code.value}"
            ),
        )
    except WorkflowAlreadyStartedError:
        pass  # it ran (and finished) before: the claim exists, nothing more to start
    except (RPCError, RuntimeError) as exc:  # RuntimeError: a lazy client that cannot connect at all
        raise TemporalUnavailable() from exc


async def visible_record(uow: UnitOfWork, principal: Principal, claim_id: str) -> ClaimRecord:
    """The claim, if this caller may see it; 404 otherwise (never tell who else has a claim)."""
    record = await uow.claims.get_record(claim_id) if _looks_like_claim_id(claim_id) else None
    if record is None or (principal.role is Role.SUBMITTER and record.org_id != principal.org):
        raise NotFound(f"no claim {claim_id} that you can see")
    return record


def _looks_like_claim_id(claim_id: str) -> bool:
    return len(claim_id) == 32 and all(c in "0123456789abcdef" for c in claim_id)


async def live_state(context: ApiContext, record: ClaimRecord) -> ClaimState | None:
    """The workflow's live state, when the claim is still moving and the workflow answers."""
    if is_final(record.status):
        return None
    handle: WorkflowHandle[Any, Any] = context.temporal.get_workflow_handle(workflow_id(record.claim_id))
    try:
        # rpc_timeout bounds one attempt; wait_for bounds the client's retries too (Temporal unreachable).
        state: ClaimState = await asyncio.wait_for(
            handle.query(STATE_QUERY, result_type=ClaimState, rpc_timeout=QUERY_TIMEOUT), QUERY_TIMEOUT.total_seconds()
        )
        return state
    except (RPCError, RuntimeError, TimeoutError):
        return None  # the database record still answers


def present(record: ClaimRecord, live: ClaimState | None) -> ClaimRead:
    """Combine the database record with the live state (the live state wins where it is newer)."""
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
    if live is not None and len(live.status_history) >= len(record.status_history):
        history = [
            StatusHistoryEntry(status=h.status, at=h.at, reason=h.reason, actor=h.actor) for h in live.status_history
        ]
        status = live.status
    else:
        history = [
            StatusHistoryEntry(status=h.status, at=h.at, reason=h.reason, actor=h.actor) for h in record.status_history
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


async def decide(
    context: ApiContext, uow: UnitOfWork, principal: Principal, record: ClaimRecord, decision: Decision
) -> UpdateResult:
    adjuster = await uow.reference.get_adjuster(principal.sub)
    if adjuster is None or not adjuster.active:
        raise Forbidden(f"{principal.sub} is not an active adjuster; ask an admin to add them to the adjuster table")
    supervisor = principal.role is Role.SUPERVISOR and adjuster.supervisor
    update = DecideInput(
        decision=decision,
        adjuster_id=principal.sub,
        supervisor=supervisor,
        authority_limit=None if supervisor else adjuster.authority_limit,
    )
    return await _update(context, record, DECIDE_UPDATE, update)


async def cancel(context: ApiContext, principal: Principal, record: ClaimRecord, reason: str) -> UpdateResult:
    return await _update(context, record, CANCEL_UPDATE, CancelInput(actor=principal.label, reason=reason))


async def provide_information(
    context: ApiContext, principal: Principal, record: ClaimRecord, note: str
) -> UpdateResult:
    return await _update(
        context, record, PROVIDE_INFORMATION_UPDATE, ProvideInformationInput(actor=principal.label, note=note)
    )


async def notify(context: ApiContext, claim_id: str, payer_claim_id: str, category: str | None) -> None:
    handle: WorkflowHandle[Any, Any] = context.temporal.get_workflow_handle(workflow_id(claim_id))
    try:
        await handle.signal(PROCESSOR_NOTICE_SIGNAL, ProcessorNotice(payer_claim_id=payer_claim_id, category=category))
    except RPCError as exc:
        if exc.status is RPCStatusCode.NOT_FOUND:
            return  # the claim already finished; nothing to wake
        raise TemporalUnavailable() from exc  # the processor retries its webhook


#: Refusal types from the workflow and the HTTP status they map to.
CONFLICT_TYPES = {"decision_conflict", "invalid_transition", "conflict"}
REFUSED_TYPES = {"decision_refused", "refused"}


async def _update(context: ApiContext, record: ClaimRecord, name: str, arg: Any) -> UpdateResult:
    if is_final(record.status):
        raise Conflict(f"the claim is {record.status.value}, which is final; it can no longer change")
    handle: WorkflowHandle[Any, Any] = context.temporal.get_workflow_handle(workflow_id(record.claim_id))
    try:
        result: UpdateResult = await handle.execute_update(name, arg, result_type=UpdateResult)
        return result
    except WorkflowUpdateFailedError as exc:
        cause = exc.cause
        if isinstance(cause, ApplicationError):
            if cause.type in REFUSED_TYPES:
                raise Unprocessable(cause.message) from exc
            if cause.type in CONFLICT_TYPES:
                raise Conflict(cause.message) from exc
        raise Conflict(str(cause or exc)) from exc
    except RPCError as exc:
        if exc.status is RPCStatusCode.NOT_FOUND:
            raise Conflict("the claim's workflow has finished; it can no longer change") from exc
        raise TemporalUnavailable() from exc
    except RuntimeError as exc:
        raise TemporalUnavailable() from exc


async def audit_read(uow: UnitOfWork, principal: Principal, claim_id: str) -> None:
    """Who read which claim: an append-only audit entry (HIPAA access logging)."""
    await uow.audit.append(
        claim_id=claim_id,
        actor=principal.label,
        action="claim.read",
        at=datetime.now(UTC),
        details={},
        event_key=f"read-{uuid.uuid4().hex}",
    )
    await uow.commit()


async def validate(context: ApiContext, uow: UnitOfWork, claim: Claim) -> ValidationResult:
    """The full check, read-only: nothing is started and no row is written."""
    codes = await context.code_sets.get(uow)
    report = await check_claim(uow, claim, claim_id=None, today=datetime.now(UTC).date(), codes=codes)
    return ValidationResult(valid=report.valid, errors=report.errors, warnings=report.warnings)
