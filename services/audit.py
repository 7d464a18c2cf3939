"""Audit use cases: verify the audit log's hash chain, and record refused requests and claim validations."""

from __future__ import annotations

import uuid
from contextlib import aclosing
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.audit_chain import ChainWalk, Problem
from db.uow import UnitOfWork
from services.access import Principal
from services.context import ServiceContext

#: The actor of a refusal when no valid token named the caller.
ANONYMOUS = "anonymous"


@dataclass(frozen=True)
class AuditVerification:
    """The chain's state: intact, or the first bad row (its id, what is wrong with it, in words)."""

    intact: bool
    rows: int
    head_id: int
    head_hash: str
    first_bad_row: int | None = None
    problem: Problem | None = None
    detail: str | None = None


async def verify_chain(sessions: async_sessionmaker[AsyncSession], *, batch: int = 1000) -> AuditVerification:
    """Walk every audit row in id order from one snapshot, `batch` rows at a time, recomputing each hash."""
    async with UnitOfWork(sessions) as uow:
        await uow.audit.read_one_snapshot()
        head_id, head_hash = await uow.audit.chain_head()
        walk = ChainWalk(head_id=head_id, head_hash=head_hash)
        async with aclosing(uow.audit.chain_rows(batch)) as rows:
            async for row in rows:
                walk.feed(row)
                if walk.broken is not None:
                    break
        broken = walk.finish()
    if broken is None:
        return AuditVerification(intact=True, rows=walk.rows, head_id=head_id, head_hash=head_hash)
    return AuditVerification(
        intact=False,
        rows=walk.rows,
        head_id=head_id,
        head_hash=head_hash,
        first_bad_row=broken.row_id,
        problem=broken.problem,
        detail=broken.detail,
    )


async def record_verification(context: ServiceContext, principal: Principal, result: AuditVerification) -> None:
    """Who verified the chain, and what they were told."""
    details: dict[str, object] = {"intact": result.intact, "rows": result.rows, "head_id": result.head_id}
    if result.first_bad_row is not None and result.problem is not None:
        details |= {"first_bad_row": result.first_bad_row, "problem": result.problem.value}
    await _append(context, actor=principal.label, action="audit.verified", claim_id=None, details=details)


async def record_refusal(
    context: ServiceContext,
    *,
    actor: str,
    method: str,
    route: str,
    status: int,
    code: str,
    claim_id: str | None,
) -> None:
    """A refused request (401, 403, 404, 409): who, which route template and method, the status and error code.
    Callers pass no free text: the route is a template, the claim id a checked id."""
    details: dict[str, object] = {"method": method, "route": route, "status": status, "code": code}
    await _append(context, actor=actor, action="request.refused", claim_id=claim_id, details=details)


async def record_validation(context: ServiceContext, principal: Principal, *, valid: bool, issues: int) -> None:
    """Who validated a claim and the outcome; nothing of the claim itself."""
    details: dict[str, object] = {"valid": valid, "issues": issues}
    await _append(context, actor=principal.label, action="claim.validated", claim_id=None, details=details)


async def _append(
    context: ServiceContext, *, actor: str, action: str, claim_id: str | None, details: dict[str, object]
) -> None:
    """One audit row in a unit of work of its own."""
    async with UnitOfWork(context.sessions) as uow:
        await uow.audit.append(
            claim_id=claim_id,
            actor=actor,
            action=action,
            at=datetime.now(UTC),
            details=details,
            event_key=f"{action}-{uuid.uuid4().hex}",
        )
        await uow.commit()
