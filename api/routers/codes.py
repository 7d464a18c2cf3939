"""/v1/codes/{icd10|cpt}: search the code tables (every role) and maintain them (admin)."""

from __future__ import annotations

import base64
import binascii
import uuid
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Query, Response, status

from api.auth import Principal, Role
from api.deps import ContextDep, Reader, UowDep, require
from api.errors import ApiError, Conflict, NotFound, Unprocessable
from api.schemas.codes import CodeCreate, CodePage, CodeRead, CodeUpdate
from db.records import CodeRow
from db.repositories.codes import CodeKind
from db.uow import UnitOfWork
from domain.codes import ICD10_CODE, PROCEDURE_CODE, canonical_icd10

router = APIRouter(prefix="/v1/codes", tags=["codes"])
Admin = Annotated[Principal, require(Role.ADMIN)]


class BadCursor(ApiError):
    status, code, title = 400, "invalid_cursor", "Bad cursor"


def canonical(kind: CodeKind, code: str) -> str:
    return canonical_icd10(code) if kind is CodeKind.ICD10 else code.strip().upper()


def checked_code(kind: CodeKind, code: str) -> str:
    """The canonical code, or a 422 that says what a code of this kind looks like."""
    value = canonical(kind, code)
    pattern, shape = (
        (
            ICD10_CODE,
            "an ICD-10-CM code: a letter, a digit, a letter or digit, then optionally a dot and 1-4 more (E11.9)",
        )
        if kind is CodeKind.ICD10
        else (
            PROCEDURE_CODE,
            "a CPT code (5 digits, or 4 digits and F, T or U) or a HCPCS code (a letter and 4 digits)",
        )
    )
    if pattern.fullmatch(value) is None:
        raise Unprocessable(
            f"code: {code!r} is not {shape}",
            errors=[{"path": "code", "message": f"expected {shape}", "rule": "code.format"}],
        )
    return value


def encode_cursor(code: str) -> str:
    return base64.urlsafe_b64encode(code.encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> str:
    try:
        code = base64.b64decode(cursor + "=" * (-len(cursor) % 4), altchars=b"-_", validate=True).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError) as exc:
        raise BadCursor("the cursor is not one this API returned; start again without it") from exc
    if not code:
        raise BadCursor("the cursor is not one this API returned; start again without it")
    return code


def read(row: CodeRow) -> CodeRead:
    return CodeRead.model_validate(row.model_dump())


async def audit(
    uow: UnitOfWork, principal: Principal, action: str, kind: CodeKind, code: str, changes: dict[str, object]
) -> None:
    await uow.audit.append(
        claim_id=None,
        actor=principal.label,
        action=action,
        at=datetime.now(UTC),
        details={"table": kind.value, "code": code, "changes": changes},
        event_key=f"{action}-{uuid.uuid4().hex}",
    )


@router.get("/{kind}", response_model=CodePage, responses={400: {"description": "Bad cursor"}})
async def search_codes(
    kind: CodeKind,
    principal: Reader,
    uow: UowDep,
    prefix: Annotated[str | None, Query(max_length=8, description="code prefix, with or without the dot")] = None,
    q: Annotated[str | None, Query(max_length=100, description="words that must all appear in the description")] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: Annotated[str | None, Query(max_length=100)] = None,
) -> CodePage:
    """Codes in code order, by prefix and description words, a page at a time."""
    rows = await uow.codes.search(
        kind,
        prefix=canonical(kind, prefix) if prefix else None,
        words=(q or "").split(),
        limit=limit + 1,
        after=decode_cursor(cursor) if cursor else None,
    )
    page = rows[:limit]
    return CodePage(
        data=[read(r) for r in page],
        count=len(page),
        next_cursor=encode_cursor(page[-1].code) if len(rows) > limit else None,
    )


@router.get("/{kind}/{code}", response_model=CodeRead, responses={404: {"description": "No such code"}})
async def get_code(kind: CodeKind, code: str, principal: Reader, uow: UowDep) -> CodeRead:
    row = await uow.codes.get(kind, canonical(kind, code))
    if row is None:
        raise NotFound(f"no {kind.value} code {code}")
    return read(row)


@router.post(
    "/{kind}",
    status_code=status.HTTP_201_CREATED,
    response_model=CodeRead,
    responses={409: {"description": "Exists"}, 422: {}},
)
async def create_code(
    kind: CodeKind, body: CodeCreate, principal: Admin, context: ContextDep, uow: UowDep, response: Response
) -> CodeRead:
    """Add a code with its effective (and optional termination) date. Admins only."""
    code = checked_code(kind, body.code)
    entry = CodeRow(
        code=code,
        description=body.description,
        effective_date=body.effective_date,
        termination_date=body.termination_date,
        billable=body.billable,
    )
    if not await uow.codes.create(kind, entry):
        raise Conflict(f"{kind.value} code {code} exists already; change it with PATCH /v1/codes/{kind.value}/{code}")
    await audit(uow, principal, "code.created", kind, code, body.model_dump(mode="json", exclude={"code"}))
    await uow.commit()
    context.code_sets.invalidate()  # this process sees the change at once; workers within the cache TTL
    response.headers["Location"] = f"/v1/codes/{kind.value}/{code}"
    return read(entry)


@router.patch("/{kind}/{code}", response_model=CodeRead, responses={404: {"description": "No such code"}, 422: {}})
async def update_code(
    kind: CodeKind, code: str, body: CodeUpdate, principal: Admin, context: ContextDep, uow: UowDep
) -> CodeRead:
    """Change a code's description, dates or billable flag (e.g. retire it with a termination date)."""
    key = canonical(kind, code)
    changes = body.model_dump(exclude_unset=True)
    current = await uow.codes.get(kind, key)
    if current is None:
        raise NotFound(f"no {kind.value} code {code}")
    effective = changes.get("effective_date", current.effective_date)
    terminated = changes.get("termination_date", current.termination_date)
    if terminated is not None and effective is not None and terminated < effective:
        raise Unprocessable(
            "termination_date is before effective_date",
            errors=[
                {"path": "termination_date", "message": "must be on or after effective_date", "rule": "code.window"}
            ],
        )
    for field in ("description", "effective_date", "billable"):
        if field in changes and changes[field] is None:
            raise Unprocessable(
                f"{field} cannot be null; leave it out to keep it",
                errors=[{"path": field, "message": "cannot be null", "rule": "not_null"}],
            )
    updated = await uow.codes.update(kind, key, changes)
    assert updated is not None
    await audit(uow, principal, "code.updated", kind, key, body.model_dump(mode="json", exclude_unset=True))
    await uow.commit()
    context.code_sets.invalidate()
    return read(updated)
