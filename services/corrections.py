"""Corrections and voids: a new claim (frequency 7 or 8) and workflow linked to an adjudicated original.

The original is found within the caller's organization (any other is "not found"), must be closed or denied
(its workflow has ended) and must have the payer claim id the new claim names (REF*F8). The new claim goes
through the same intake as POST /v1/claims: the same Idempotency-Key namespace, the same replay and conflict
rules. Its workflow marks the original replaced or voided once the payer accepts it.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from db.records import ClaimRecord, ClaimScope
from db.uow import UnitOfWork
from domain.claim import Claim
from domain.errors import ConflictError
from domain.lineage import replacement, void_of
from domain.status import ClaimStatus, check_correctable
from services import claim_workflows
from services.access import Principal
from services.claims import Submission, _looks_like_claim_id, claim_id_for, key_reused, org_of, request_hash
from services.context import ServiceContext
from services.errors import NotFoundError

#: A replacement or void in one of these statuses never reached the payer: the original may be corrected again.
ABANDONED: frozenset[ClaimStatus] = frozenset({ClaimStatus.INVALID, ClaimStatus.CANCELLED})


class NoPayerClaimIdError(ConflictError):
    """A replacement or void names its original by the payer's claim id; an original without one cannot be named."""

    code = "no_payer_claim_id"


class AlreadyCorrectedError(ConflictError):
    """An original has one replacement or void at a time."""

    code = "already_corrected"


async def correct(
    context: ServiceContext, principal: Principal, claim_id: str, body: Claim, idempotency_key: str | None
) -> Submission:
    """Start a corrected claim (frequency 7) for the original: the body as sent, naming its payer claim id."""
    return await _start_linked(
        context, principal, claim_id, idempotency_key, lambda original, pcn: replacement(body, original, pcn), None
    )


async def void(
    context: ServiceContext, principal: Principal, claim_id: str, reason: str | None, idempotency_key: str | None
) -> Submission:
    """Start a void claim (frequency 8) of the original: its content, naming its payer claim id; the reason is kept
    as the void claim's note."""
    return await _start_linked(context, principal, claim_id, idempotency_key, void_of, reason)


async def _start_linked(
    context: ServiceContext,
    principal: Principal,
    original_id: str,
    idempotency_key: str | None,
    build: Callable[[Claim, str], Claim],
    note: str | None,
) -> Submission:
    """Record the new claim and its link (one commit), then start its workflow; a retry with the same key and
    body finds the claim it made, even once the original has been replaced or voided."""
    org_id = org_of(principal)
    scope = ClaimScope(kind="organization", subject=org_id)
    new_id = claim_id_for(org_id, idempotency_key)
    now = datetime.now(UTC)
    async with UnitOfWork(context.sessions) as uow:
        original = await _original(uow, original_id, scope)
        claim = build(original.claim, original.payer_claim_id or "")
        digest = request_hash(claim)
        found = await uow.claims.get_record(new_id, scope=scope) if idempotency_key is not None else None
        if found is None:
            await uow.claims.lock_for_lineage(original.claim_id)
            original = await _original(uow, original_id, scope)  # as it is now that no other link can be made
            _check_startable(original)
            if [s for s in await uow.claims.successors(original.claim_id) if s.status not in ABANDONED]:
                raise AlreadyCorrectedError(
                    f"claim {original.claim_id} already has a replacement or void; correct or void that claim instead"
                )
            intake = await uow.claims.intake(
                claim_id=new_id,
                org_id=org_id,
                idempotency_key=idempotency_key,
                request_hash=digest,
                claim=claim,
                received_at=now,
            )
            if intake.created:
                await uow.claims.link_original(new_id, original.claim_id)
                text = (note or "").strip()
                if text:
                    await uow.claims.add_note(claim_id=new_id, kind="void", body=text, author=principal.label, at=now)
                await uow.commit()
            else:  # the same key won a race: that claim is this one
                found = await uow.claims.get_record(intake.claim_id, scope=scope)
        if found is not None and found.request_hash != digest:
            raise key_reused()
    received_at = found.created_at if found else now
    claim_id = found.claim_id if found else new_id
    await claim_workflows.start_workflow(context, claim_id, org_id, claim, received_at)
    return Submission(claim_id=claim_id, status=found.status if found else ClaimStatus.RECEIVED, created=found is None)


async def _original(uow: UnitOfWork, claim_id: str, scope: ClaimScope) -> ClaimRecord:
    record = await uow.claims.get_record(claim_id, scope=scope) if _looks_like_claim_id(claim_id) else None
    if record is None:
        raise NotFoundError(f"no claim {claim_id} that you can see")
    return record


def _check_startable(original: ClaimRecord) -> None:
    if not original.payer_claim_id:
        raise NoPayerClaimIdError(
            f"claim {original.claim_id} has no payer claim id (the payer never accepted it), so a replacement or "
            "void cannot name it; send a new claim (frequency 1) instead"
        )
    check_correctable(original.status)
