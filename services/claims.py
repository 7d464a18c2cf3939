"""Claim use cases: submit, read, list, decide, cancel, provide information, notify, validate.

A caller reaches only the claims of its scope (services.access.scope_of), filtered in SQL: any other claim is
"not found", whether it exists or not. Every read and every listing is audited. Each one does its database work in a short unit of work, committed and closed before it calls
Temporal: no transaction or pooled connection waits on a workflow. Free text (a decision's note,
the information provided, a cancellation's reason) is stored as a note first; the workflow gets its id.
"""

from __future__ import annotations

import hashlib
import json
import logging
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from db.claim_checks import check_claim
from db.models.claim_note import NOTE_BODY_MAX_CHARS as NOTE_BODY_MAX_CHARS
from db.records import ClaimPage, ClaimRecord, ClaimScope
from db.records import ClaimSummary as ClaimSummary
from db.records import NoteKind as NoteKind
from db.uow import UnitOfWork
from domain.claim import Claim
from domain.decision import Decision
from domain.integrations import check_submittable
from domain.lineage import Lineage, lineage_of
from domain.status import ClaimStatus, check_ready, is_final
from domain.validation import ValidationReport
from services import claim_workflows
from services.access import Principal, Role, scope_of
from services.audit import record_validation
from services.context import ServiceContext
from services.errors import (
    ClaimFinalError,
    ForbiddenError,
    IdempotencyKeyReusedError,
    InvalidFieldError,
    NotFoundError,
    UpdateRefusedError,
)
from workflows.claim_contract import (
    CANCEL_UPDATE,
    DECIDE_UPDATE,
    PROVIDE_INFORMATION_UPDATE,
    REASSIGN_UPDATE,
    SUBMIT_UPDATE,
    CancelInput,
    ClaimState,
    DecideInput,
    ProcessorNotice,
    ProvideInformationInput,
    ReassignInput,
    SubmitInput,
    UpdateResult,
)

log = logging.getLogger(__name__)

#: Namespace for claim ids derived from an Idempotency-Key.
CLAIM_ID_NAMESPACE = uuid.UUID("6f0c1f0e-8a4b-4d2b-9a53-3c1f3e2b7d10")


@dataclass(frozen=True)
class Submission:
    """The claim a submission resolved to, and whether this call created it (False: a retry found it)."""

    claim_id: str
    status: ClaimStatus
    created: bool


@dataclass(frozen=True)
class ClaimView:
    """What is known of a claim: its record, and the workflow's live state while it still moves (None once
    final, or when the workflow did not answer in time)."""

    record: ClaimRecord
    live: ClaimState | None
    #: The original it replaces or voids, and the claims that replace or void it.
    lineage: Lineage = field(default_factory=Lineage)


def request_hash(claim: Claim) -> str:
    canonical = json.dumps(claim.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def key_reused() -> IdempotencyKeyReusedError:
    """The refusal of an Idempotency-Key already used with another claim body."""
    return IdempotencyKeyReusedError(
        "this Idempotency-Key was already used with a different claim body; "
        "send the original body to see that claim, or use a new key for a new claim"
    )


def claim_id_for(org_id: str, idempotency_key: str | None) -> str:
    """The same organization and key always name the same claim; no key, a fresh id."""
    if idempotency_key is None:
        return uuid.uuid4().hex
    return uuid.uuid5(CLAIM_ID_NAMESPACE, f"{org_id}\x1f{idempotency_key}").hex


def org_of(principal: Principal) -> str:
    """The organization a caller submits for: a submitter's own; an admin's, or the admin itself."""
    if principal.role is Role.SUBMITTER:
        assert principal.org is not None
        return principal.org
    return principal.org or principal.sub


async def submit(
    context: ServiceContext, principal: Principal, claim: Claim, idempotency_key: str | None
) -> Submission:
    """Record the intent (commit), then start the workflow; a retry with the same key finds both."""
    org_id = org_of(principal)
    claim_id = claim_id_for(org_id, idempotency_key)
    digest = request_hash(claim)
    now = datetime.now(UTC)
    async with UnitOfWork(context.sessions) as uow:
        if await uow.integrations.payer_active(claim.insurance.payer_id) is False:
            payer = claim.insurance.payer_id
            raise InvalidFieldError(
                f"insurance.payer_id: payer {payer} is inactive; claims to it are not accepted",
                path="insurance.payer_id",
                problem=f"payer {payer} is inactive: send the claim to the member's current payer, or ask an admin "
                "to reactivate this one",
                rule="payer.active",
            )
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
            raise key_reused()
        found = None if intake.created else await uow.claims.get_record(intake.claim_id, scope=_of_org(org_id))
    received_at = found.created_at if found else now
    await claim_workflows.start_workflow(context, intake.claim_id, org_id, claim, received_at)
    status = found.status if found else ClaimStatus.RECEIVED
    return Submission(claim_id=intake.claim_id, status=status, created=intake.created)


async def read(context: ServiceContext, principal: Principal, claim_id: str) -> ClaimView:
    """The record and a read-audit entry (committed), then the workflow's live state while it still moves."""
    async with UnitOfWork(context.sessions) as uow:
        record = await visible_record(uow, principal, claim_id)
        links = await lineage(uow, record)
        await audit_read(uow, principal, claim_id)
    live = None if is_final(record.status) else await claim_workflows.live_state(context, record.claim_id)
    return ClaimView(record=record, live=live, lineage=links)


async def lineage(uow: UnitOfWork, record: ClaimRecord) -> Lineage:
    """The claim's links both ways: the original it replaces or voids, the claims that replace or void it."""
    original = await uow.claims.original_of(record.claim_id)
    successors = await uow.claims.successors(record.claim_id)
    return lineage_of(
        record.claim.frequency_code,
        original.claim_id if original else None,
        [(s.claim_id, s.frequency_code) for s in successors],
    )


async def list_claims(
    context: ServiceContext,
    principal: Principal,
    *,
    status: ClaimStatus | None,
    payer_id: str | None,
    adjuster: str | None,
    limit: int,
    cursor: str | None,
) -> ClaimPage:
    """The caller's claims (its scope), newest first, filtered, a page at a time; the listing is audited: which
    filters, which claims it showed."""
    async with UnitOfWork(context.sessions) as uow:
        page = await uow.claims.list_page(
            scope=scope_of(principal),
            status=status,
            payer_id=payer_id,
            adjuster=adjuster,
            limit=limit,
            cursor=cursor,
        )
        filters = {"status": status.value if status else None, "payer_id": payer_id, "adjuster": adjuster}
        await uow.audit.append(
            claim_id=None,
            actor=principal.label,
            action="claims.list",
            at=datetime.now(UTC),
            details={
                # ids and codes only: no filter here can carry patient data
                "filters": {name: value for name, value in filters.items() if value is not None},
                "limit": limit,
                "from_cursor": cursor is not None,
                "claim_ids": [item.claim_id for item in page.items],
                "count": len(page.items),
            },
            event_key=f"list-{uuid.uuid4().hex}",
        )
        await uow.commit()
    return page


async def visible_record(uow: UnitOfWork, principal: Principal, claim_id: str) -> ClaimRecord:
    """The claim, if it is in this caller's scope (filtered in SQL); NotFoundError otherwise, the same whether the
    claim exists or not (never tell who else has a claim)."""
    record = (
        await uow.claims.get_record(claim_id, scope=scope_of(principal)) if _looks_like_claim_id(claim_id) else None
    )
    if record is None:
        raise NotFoundError(f"no claim {claim_id} that you can see")
    return record


def _of_org(org_id: str) -> ClaimScope:
    return ClaimScope(kind="organization", subject=org_id)


def _looks_like_claim_id(claim_id: str) -> bool:
    return len(claim_id) == 32 and all(c in "0123456789abcdef" for c in claim_id)


async def decide(context: ServiceContext, principal: Principal, claim_id: str, decision: Decision) -> UpdateResult:
    """An adjuster's decision: the claim and the adjuster are read and its note stored (committed, the unit of
    work closed), then the update carries the note's id, never its text."""
    async with UnitOfWork(context.sessions) as uow:
        record = await visible_record(uow, principal, claim_id)
        adjuster = await uow.reference.get_adjuster(principal.sub)
        if adjuster is None or not adjuster.active:
            raise ForbiddenError(
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


async def reassign(
    context: ServiceContext, principal: Principal, claim_id: str, adjuster_id: str | None, reason: str
) -> UpdateResult:
    """A supervisor (or an admin) hands a claim in review or waiting for information to another adjuster — the one
    named, which must be active, or the rules' choice besides the current one; the reason is stored as a note."""
    async with UnitOfWork(context.sessions) as uow:
        record = await visible_record(uow, principal, claim_id)
        if principal.role is Role.SUPERVISOR:
            supervisor = await uow.reference.get_adjuster(principal.sub)
            if supervisor is None or not supervisor.supervisor or not supervisor.active:
                raise ForbiddenError(f"{principal.sub} is not an active supervisor; only supervisors reassign claims")
        if adjuster_id is not None:
            target = await uow.reference.get_adjuster(adjuster_id)
            if target is None:
                raise InvalidFieldError(
                    f"adjuster_id: no adjuster {adjuster_id!r}",
                    path="adjuster_id",
                    problem="no such adjuster; GET /v1/adjusters lists them, or leave it out to let the rules choose",
                    rule="adjuster_exists",
                )
            if not target.active:
                raise InvalidFieldError(
                    f"adjuster_id: {adjuster_id} is not active",
                    path="adjuster_id",
                    problem="this adjuster is away or inactive; choose an active one",
                    rule="adjuster_active",
                )
        check_not_final(record)
        note_id = await add_note(uow, principal, record.claim_id, "reassignment", reason)
    update = ReassignInput(actor=principal.label, adjuster_id=adjuster_id, note_id=note_id)
    return await _update(context, record.claim_id, REASSIGN_UPDATE, update, what="reassignment", note_id=note_id)


async def cancel(context: ServiceContext, principal: Principal, claim_id: str, reason: str | None) -> UpdateResult:
    """Withdraw a claim; its reason (if given) is stored as a note first and the update carries its id."""
    async with UnitOfWork(context.sessions) as uow:
        record = await visible_record(uow, principal, claim_id)
        check_not_final(record)
        note_id = await add_note(uow, principal, record.claim_id, "cancellation", reason)
    update = CancelInput(actor=principal.label, note_id=note_id)
    return await _update(context, record.claim_id, CANCEL_UPDATE, update, what="cancellation", note_id=note_id)


async def provide_information(
    context: ServiceContext,
    principal: Principal,
    claim_id: str,
    note: str | None,
    document_ids: list[str] | None = None,
) -> UpdateResult:
    """The submitter's answer to a request for information: a note (stored first, the update carries its id) and
    documents already uploaded to the claim (their ids, with the types found for them: the workflow refuses an
    answer that lacks a type the adjuster asked for)."""
    wanted = list(dict.fromkeys(document_ids or []))
    async with UnitOfWork(context.sessions) as uow:
        record = await visible_record(uow, principal, claim_id)
        check_not_final(record)
        types = {document.document_id: document.type for document in await uow.documents.for_claim(record.claim_id)}
        for index, document_id in enumerate(wanted):
            if document_id not in types:
                raise InvalidFieldError(
                    f"document_ids[{index}]: no document {document_id} on this claim",
                    path=f"document_ids[{index}]",
                    problem="not a document of this claim; upload it with POST /v1/claims/{claim_id}/documents first",
                    rule="document_of_claim",
                )
        note_id = await add_note(uow, principal, record.claim_id, "information", note)
    update = ProvideInformationInput(
        actor=principal.label,
        note_id=note_id,
        document_ids=wanted,
        document_types=sorted({types[document_id] for document_id in wanted}),
    )
    return await _update(
        context, record.claim_id, PROVIDE_INFORMATION_UPDATE, update, what="information", note_id=note_id
    )


async def submit_ready(context: ServiceContext, principal: Principal, claim_id: str) -> UpdateResult:
    """Submit a claim waiting in `ready`: refused (409) unless its integration is now enabled and its payer active;
    the workflow resolves the integration again and sends the claim once, whatever the retries."""
    async with UnitOfWork(context.sessions) as uow:
        record = await visible_record(uow, principal, claim_id)
        check_ready(record.status, submission_started=False)
        integration = await uow.integrations.resolve(record.org_id, record.payer_id)
        active = await uow.integrations.payer_active(record.payer_id)
    check_submittable(record.payer_id, active is not False, integration)
    update = SubmitInput(actor=principal.label)
    return await claim_workflows.update(context, record.claim_id, SUBMIT_UPDATE, update, what="submission")


async def notify(context: ServiceContext, claim_id: str, payer_claim_id: str, category: str | None) -> None:
    """The processor says the claim moved: its workflow polls now."""
    await claim_workflows.signal_notice(
        context, claim_id, ProcessorNotice(payer_claim_id=payer_claim_id, category=category)
    )


async def validate(context: ServiceContext, principal: Principal, claim: Claim) -> ValidationReport:
    """The full check: nothing is started, and the one row written is the audit's (who validated, the outcome)."""
    async with UnitOfWork(context.sessions) as uow:
        codes = await context.code_sets.get(uow)
        report = await check_claim(
            uow, claim, claim_id=None, org_id=org_of(principal), today=datetime.now(UTC).date(), codes=codes
        )
    await record_validation(context, principal, valid=not report.errors, issues=len(report.issues))
    return report


def check_not_final(record: ClaimRecord) -> None:
    if is_final(record.status):
        raise ClaimFinalError(f"the claim is {record.status.value}, which is final; it can no longer change")


async def add_note(
    uow: UnitOfWork, principal: Principal, claim_id: str, kind: NoteKind, body: str | None
) -> str | None:
    """Store the note an update will name by id, and commit; None (and nothing stored) without a note."""
    text = (body or "").strip()
    if not text:
        return None
    note_id = await uow.claims.add_note(
        claim_id=claim_id, kind=kind, body=text, author=principal.label, at=datetime.now(UTC)
    )
    await uow.commit()
    return note_id


async def _update(
    context: ServiceContext, claim_id: str, name: str, arg: Any, *, what: str, note_id: str | None
) -> UpdateResult:
    """Send the update; when the workflow definitely did not apply it, its note goes too.

    After a timeout or an unreachable Temporal the note stays: the update may still apply, and its
    status row would name the note.
    """
    try:
        return await claim_workflows.update(context, claim_id, name, arg, what=what)
    except UpdateRefusedError:
        if note_id is not None:
            await discard_note(context, note_id)
        raise


async def discard_note(context: ServiceContext, note_id: str) -> None:
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
