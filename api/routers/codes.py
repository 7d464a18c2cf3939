"""/v1/codes/{icd10|cpt}: search the code tables (every role) and maintain them (admin)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response, status

from api.deps import Admin, ContextDep, Reader
from api.schemas.codes import CodeCreate, CodePage, CodeRead, CodeUpdate
from services import codes
from services.codes import CodeKind

router = APIRouter(prefix="/v1/codes", tags=["codes"])


@router.get("/{kind}", response_model=CodePage, responses={400: {"description": "Bad cursor"}})
async def search_codes(
    kind: CodeKind,
    principal: Reader,
    context: ContextDep,
    prefix: Annotated[str | None, Query(max_length=8, description="code prefix, with or without the dot")] = None,
    q: Annotated[str | None, Query(max_length=100, description="words that must all appear in the description")] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: Annotated[str | None, Query(max_length=100)] = None,
) -> CodePage:
    """Codes in code order, by prefix and description words, a page at a time."""
    page = await codes.search_codes(context, kind, prefix=prefix, q=q, limit=limit, cursor=cursor)
    data = [CodeRead.model_validate(row.model_dump()) for row in page.rows]
    return CodePage(data=data, count=len(data), next_cursor=page.next_cursor)


@router.get("/{kind}/{code}", response_model=CodeRead, responses={404: {"description": "No such code"}})
async def get_code(kind: CodeKind, code: str, principal: Reader, context: ContextDep) -> CodeRead:
    return CodeRead.model_validate((await codes.get_code(context, kind, code)).model_dump())


@router.post(
    "/{kind}",
    status_code=status.HTTP_201_CREATED,
    response_model=CodeRead,
    responses={409: {"description": "Exists"}, 422: {}},
)
async def create_code(
    kind: CodeKind, body: CodeCreate, principal: Admin, context: ContextDep, response: Response
) -> CodeRead:
    """Add a code with its effective (and optional termination) date. Admins only."""
    row = await codes.create_code(context, principal, kind, **body.model_dump())
    response.headers["Location"] = f"/v1/codes/{kind.value}/{row.code}"
    return CodeRead.model_validate(row.model_dump())


@router.patch("/{kind}/{code}", response_model=CodeRead, responses={404: {"description": "No such code"}, 422: {}})
async def update_code(kind: CodeKind, code: str, body: CodeUpdate, principal: Admin, context: ContextDep) -> CodeRead:
    """Change a code's description, dates or billable flag (e.g. retire it with a termination date)."""
    row = await codes.update_code(context, principal, kind, code, body.model_dump(exclude_unset=True))
    return CodeRead.model_validate(row.model_dump())
