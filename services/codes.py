"""Code-table use cases: search the ICD-10-CM and CPT/HCPCS tables, read a code, add and change codes (audited)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from db.records import CodeRow
from db.repositories.codes import CodeKind as CodeKind
from db.repositories.cursor import decode_cursor, encode_cursor
from db.uow import UnitOfWork
from domain.codes import ICD10_CODE, PROCEDURE_CODE, canonical_icd10, canonical_procedure
from services.access import Principal
from services.context import ServiceContext
from services.errors import CodeExistsError, InvalidFieldError, NotFoundError

#: What a code of each kind looks like, as an error message says it.
SHAPES = {
    CodeKind.ICD10: (
        ICD10_CODE,
        "an ICD-10-CM code: a letter, a digit, a letter or digit, then optionally a dot and 1-4 more (E11.9)",
    ),
    CodeKind.CPT: (
        PROCEDURE_CODE,
        "a CPT code (5 digits, or 4 digits and F, T or U) or a HCPCS code (a letter and 4 digits)",
    ),
}
#: Fields a change may leave out but never set to null.
REQUIRED_FIELDS = ("description", "effective_date", "billable")


@dataclass(frozen=True)
class CodePage:
    """One page of codes in code order; pass `next_cursor` back for the next."""

    rows: list[CodeRow]
    next_cursor: str | None


#: The most description words one search may ask for.
MAX_SEARCH_WORDS = 8


def canonical(kind: CodeKind, code: str) -> str:
    """The code as its table spells it: the same rule the claim model applies (domain/codes.py)."""
    return canonical_icd10(code) if kind is CodeKind.ICD10 else canonical_procedure(code)


def checked_code(kind: CodeKind, code: str) -> str:
    """The canonical code, or InvalidFieldError saying what a code of this kind looks like."""
    value = canonical(kind, code)
    pattern, shape = SHAPES[kind]
    if pattern.fullmatch(value) is None:
        raise InvalidFieldError(
            f"code: {code!r} is not {shape}", path="code", problem=f"expected {shape}", rule="code.format"
        )
    return value


async def search_codes(
    context: ServiceContext, kind: CodeKind, *, prefix: str | None, q: str | None, limit: int, cursor: str | None
) -> CodePage:
    """Codes in code order, by prefix (with or without the dot) and description words, a page at a time."""
    words = (q or "").split()
    if len(words) > MAX_SEARCH_WORDS:  # each word is a LIKE over every description
        raise InvalidFieldError(
            f"search with at most {MAX_SEARCH_WORDS} words",
            path="q",
            problem=f"{len(words)} words; at most {MAX_SEARCH_WORDS}",
            rule="search.words",
        )
    async with UnitOfWork(context.sessions) as uow:
        rows = await uow.codes.search(
            kind,
            prefix=canonical(kind, prefix) if prefix else None,
            words=words,
            limit=limit + 1,
            after=decode_cursor(cursor, str)[0] if cursor else None,
        )
    page = rows[:limit]
    return CodePage(rows=page, next_cursor=encode_cursor(page[-1].code) if len(rows) > limit else None)


async def get_code(context: ServiceContext, kind: CodeKind, code: str) -> CodeRow:
    async with UnitOfWork(context.sessions) as uow:
        row = await uow.codes.get(kind, canonical(kind, code))
    if row is None:
        raise NotFoundError(f"no {kind.value} code {code}")
    return row


async def create_code(
    context: ServiceContext,
    principal: Principal,
    kind: CodeKind,
    *,
    code: str,
    description: str,
    effective_date: date,
    termination_date: date | None,
    billable: bool,
) -> CodeRow:
    """Add a code with its validity window; the change is audited and every cache here sees it at once."""
    entry = CodeRow(
        code=checked_code(kind, code),
        description=description,
        effective_date=effective_date,
        termination_date=termination_date,
        billable=billable,
    )
    async with UnitOfWork(context.sessions) as uow:
        if not await uow.codes.create(kind, entry):
            raise CodeExistsError(
                f"{kind.value} code {entry.code} exists already; "
                f"change it with PATCH /v1/codes/{kind.value}/{entry.code}"
            )
        changes = entry.model_dump(mode="json", exclude={"code"})
        await audit(uow, principal, "code.created", kind, entry.code, changes)
        await uow.commit()
    context.code_sets.invalidate()  # this process sees the change at once; workers within the cache TTL
    return entry


async def update_code(
    context: ServiceContext, principal: Principal, kind: CodeKind, code: str, changes: dict[str, Any]
) -> CodeRow:
    """Change a code's description, dates or billable flag (only the fields in `changes`); audited."""
    key = canonical(kind, code)
    async with UnitOfWork(context.sessions) as uow:
        current = await uow.codes.get(kind, key)
        if current is None:
            raise NotFoundError(f"no {kind.value} code {code}")
        effective = changes.get("effective_date", current.effective_date)
        terminated = changes.get("termination_date", current.termination_date)
        if terminated is not None and effective is not None and terminated < effective:
            raise InvalidFieldError(
                "termination_date is before effective_date",
                path="termination_date",
                problem="must be on or after effective_date",
                rule="code.window",
            )
        for field in REQUIRED_FIELDS:
            if field in changes and changes[field] is None:
                raise InvalidFieldError(
                    f"{field} cannot be null; leave it out to keep it",
                    path=field,
                    problem="cannot be null",
                    rule="not_null",
                )
        updated = await uow.codes.update(kind, key, changes)
        assert updated is not None
        await audit(uow, principal, "code.updated", kind, key, _as_json(changes))
        await uow.commit()
    context.code_sets.invalidate()
    return updated


def _as_json(changes: dict[str, Any]) -> dict[str, Any]:
    return {name: value.isoformat() if isinstance(value, date) else value for name, value in changes.items()}


async def audit(
    uow: UnitOfWork, principal: Principal, action: str, kind: CodeKind, code: str, changes: dict[str, Any]
) -> None:
    await uow.audit.append(
        claim_id=None,
        actor=principal.label,
        action=action,
        at=datetime.now(UTC),
        details={"table": kind.value, "code": code, "changes": changes},
        event_key=f"{action}-{uuid.uuid4().hex}",
    )
