"""/v1/audit: verify the audit log's hash chain (admins only)."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter
from pydantic import BaseModel, Field

from api.deps import Admin, ContextDep
from services import audit

router = APIRouter(prefix="/v1/audit", tags=["audit"])


class AuditVerificationRead(BaseModel):
    """The audit chain's state: intact (with its length and head), or the first bad row."""

    status: Literal["intact", "broken"]
    rows: int = Field(description="rows read (up to the first bad one when broken)")
    head_id: int = Field(description="the last id the chain recorded")
    head_hash: str = Field(description="the chain head's SHA-256; keep it elsewhere to detect a rewritten chain")
    first_bad_row: int | None = Field(None, description="id of the first altered, inserted or deleted row")
    problem: Literal["altered", "inserted", "deleted"] | None = None
    detail: str | None = None


@router.get("/verify", response_model=AuditVerificationRead, responses={401: {}, 403: {}})
async def verify_audit_chain(principal: Admin, context: ContextDep) -> AuditVerificationRead:
    """Recompute every audit row's hash and link; report the first bad row, or "intact". Admins only; audited."""
    result = await audit.verify_chain(context.sessions)
    await audit.record_verification(context, principal, result)
    return AuditVerificationRead(
        status="intact" if result.intact else "broken",
        rows=result.rows,
        head_id=result.head_id,
        head_hash=result.head_hash,
        first_bad_row=result.first_bad_row,
        problem=result.problem.value if result.problem else None,
        detail=result.detail,
    )
