"""Claim use cases behind the routes: intake and start, read, decide, cancel, inform.

Each one does its database work in a short unit of work, committed and closed before it calls
Temporal: no transaction or pooled connection waits on a workflow.
"""

from __future__ import annotations

import hashlib
import json
import logging
import uuid
from datetime import UTC, datetime
from typing import Any

from activities.claim_checks import check_claim
from api import workflow_calls
from api.auth import Principal, Role
from api.deps import ApiContext
from api.disconnect import even_if_client_leaves
from api.errors import Conflict, Forbidden, NotFound, Unprocessable
from api.schemas.claims import (
    ClaimAccepted,
    ClaimLineRead,
    ClaimRead,
    LineAdjudicationRead,
    PaymentRead,
    StatusHistoryEntry,
    ValidationResult,
)
from api.workflow_calls import start_workflow
from db.records import ClaimRecord, NoteKind
from db.uow import UnitOfWork
from domain.claim import Claim
from domain.decision import Decision
from domain.status import ClaimStatus, is_final
from domain.validation import Severity, ValidationIssue
from workflows.claim_contract import (
    CANCEL_UPDATE,
    DECIDE_UPDATE,
    PROVIDE_INFORMATION_UPDATE,
    CancelInput,
    ClaimState,
    DecideInput,
    ProcessorNotice,
    ProvideInformationInput,
    UpdateResult,
    workflow_id,
)

log = logging.getLogger(__name__)

#: Namespace for claim ids derived from an Idempotency-Key.
CLAIM_ID_NAMESPACE = uuid.UUID("6f0c1f0e-8a4b-4d2b-9a53-3c1f3e2b7d10")


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
    context: ApiContext, principal: Principal, claim: Claim, idempotency_key: str | None
) -> tuple[ClaimAccepted, bool]:
    """Record the intent (commit), then start the workflow; a retry with the same key finds both.

    Once it has begun it runs to its end even if the client leaves, so a recorded claim is not
    left without its workflow.
    """
    return await even_if_client_leaves(_submit(context, principal, claim, idempotency_key))


async def _submit(
    context: ApiContext, principal: Principal, claim: Claim, idempotency_key: str | None
) -> tuple[ClaimAccepted, bool]:
    org_id = org_of(principal)
    claim_id = claim_id_for(org_id, idempotency_key)
    digest = request_hash(claim)
    now = datetime.now(UTC)
    async with UnitOfWork(context.sessions) as uow:
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


async def read(context: ApiContext, principal: Principal, claim_id: str) -> ClaimRead:
    """The record and a read-audit entry (committed), then the workflow's live state while it still moves."""
    async with UnitOfWork(context.sessions) as uow:
        record = await visible_record(uow, principal, claim_id)
        await audit_read(uow, principal, claim_id)
    live = None if is_final(record.status) else await workflow_calls.live_state(context, record.claim_id)
    return present(record, live)


async def visible_record(uow: UnitOfWork, principal: Principal, claim_id: str) -> ClaimRecord:
    """The claim, if this caller may see it; 404 otherwise (never tell who else has a claim)."""
    record = await uow.claims.get_record(claim_id) if _looks_like_claim_id(claim_id) else None
    if record is None or (principal.role is Role.SUBMITTER and record.org_id != principal.org):
        raise NotFound(f"no claim {claim_id} that you can see")
    return record


def _looks_like_claim_id(claim_id: str) -> bool:
    return len(claim_id) == 32 and all(c in "0123456789abcdef" for c in claim_id)


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
    # The live history may be ahead of the record; the notes are only in the record (merged by seq).
    notes = {h.seq: h for h in record.status_history}
    if live is not None and len(live.status_history) >= len(record.status_history):
        history = [
            StatusHistoryEntry(
                status=h.status,
                at=h.at,
                reason=h.reason,
                actor=h.actor,
                note=notes[h.seq].note if h.seq in notes else None,
                note_kind=notes[h.seq].note_kind if h.seq in notes else None,
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


async def decide(context: ApiContext, principal: Principal, claim_id: str, decision: Decision) -> UpdateResult:
    """An adjuster's decision: the claim and the adjuster are read and its note stored (committed, the unit of
    work closed), then the update carries the note's id, never its text."""
    async with UnitOfWork(context.sessions) as uow:
        record = await visible_record(uow, principal, claim_id)
        adjuster = await uow.reference.get_adjuster(principal.sub)
        if adjuster is None or not adjuster.active:
            raise Forbidden(
                f"{principal.sub} is not an active adjuster; ask an admin to add them to the adjuster table"
            )
        check_not_final(record)
        note_id = await add_note(uow, principal, record.claim_id, "decision", decision.note)
    supervisor = principal.role is Role.SUPERVISOR and adjuster.supervisor
    update = DecideInput(
        decision=decision.model_copy(update={"note": None}),
        adjuster_id=principal.sub,
        supervisor=supervisor,
        authority_limit=None if supervisor else adjuster.authority_limit,
        note_id=note_id,
    )
    return await _update(context, record.claim_id, DECIDE_UPDATE, update, what="decision", note_id=note_id)


async def cancel(context: ApiContext, principal: Principal, claim_id: str, reason: str | None) -> UpdateResult:
    """Withdraw a claim; its reason (if given) is stored as a note first and the update carries its id."""
    async with UnitOfWork(context.sessions) as uow:
        record = await visible_record(uow, principal, claim_id)
        check_not_final(record)
        note_id = await add_note(uow, principal, record.claim_id, "cancellation", reason)
    update = CancelInput(actor=principal.label, note_id=note_id)
    return await _update(context, record.claim_id, CANCEL_UPDATE, update, what="cancellation", note_id=note_id)


async def provide_information(context: ApiContext, principal: Principal, claim_id: str, note: str) -> UpdateResult:
    """The submitter's answer to a request for information: stored as a note first, the update carries its id."""
    async with UnitOfWork(context.sessions) as uow:
        record = await visible_record(uow, principal, claim_id)
        check_not_final(record)
        note_id = await add_note(uow, principal, record.claim_id, "information", note)
    update = ProvideInformationInput(actor=principal.label, note_id=note_id)
    return await _update(
        context, record.claim_id, PROVIDE_INFORMATION_UPDATE, update, what="information", note_id=note_id
    )


async def notify(context: ApiContext, claim_id: str, payer_claim_id: str, category: str | None) -> None:
    await workflow_calls.signal_notice(
        context, claim_id, ProcessorNotice(payer_claim_id=payer_claim_id, category=category)
    )


def check_not_final(record: ClaimRecord) -> None:
    if is_final(record.status):
        raise Conflict(f"the claim is {record.status.value}, which is final; it can no longer change")


async def add_note(
    uow: UnitOfWork, principal: Principal, claim_id: str, kind: NoteKind, body: str | None
) -> str | None:
    """Store the note an update will name by id, and commit; None (and nothing stored) without a note.

    Free text never enters the workflow's history: the update carries the note's id only."""
    text = (body or "").strip()
    if not text:
        return None
    note_id = await uow.claims.add_note(
        claim_id=claim_id, kind=kind, body=text, author=principal.label, at=datetime.now(UTC)
    )
    await uow.commit()
    return note_id


async def _update(
    context: ApiContext, claim_id: str, name: str, arg: Any, *, what: str, note_id: str | None
) -> UpdateResult:
    """Send the update; when the workflow definitely did not apply it, its note goes too.

    Conflict and Unprocessable come only from a refusal (the workflow's validator or handler) or a finished
    workflow: the update is not applied and never will be. After a timeout or an unreachable Temporal the
    note stays, since the update may still apply and its status row would name the note.
    """
    try:
        return await workflow_calls.update(context, claim_id, name, arg, what=what)
    except (Conflict, Unprocessable):
        if note_id is not None:
            await discard_note(context, note_id)
        raise


async def discard_note(context: ApiContext, note_id: str) -> None:
    """Delete a refused update's note in a unit of work of its own; a failure is logged, not raised, so the
    caller still learns why the update was refused."""
    try:
        async with UnitOfWork(context.sessions) as uow:
            await uow.claims.discard_note(note_id)
            await uow.commit()
    except Exception:
        log.warning("claim.note_discard_failed", extra={"note_id": note_id}, exc_info=True)


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
