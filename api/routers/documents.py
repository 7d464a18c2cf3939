"""/v1/claims/{claim_id}/documents and /v1/documents: upload a claim's documents, list them, read their bytes, search.

Each route parses, authorises, calls one use case of services.documents and shapes its answer.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Query, Request, Response, status

from api.deps import ContextDep, Reader
from api.document_upload import read_upload
from api.schemas.documents import UPLOAD_BODY, DocumentList, DocumentPage, DocumentRead
from domain.documents import ALLOWED_CONTENT_TYPES, DocumentType
from services import documents
from services.documents import DocumentConfig
from services.errors import NotFoundError

router = APIRouter(tags=["documents"])

PROBLEMS: dict[int | str, dict[str, object]] = {
    401: {"description": "No or an invalid bearer token"},
    403: {"description": "The token's role may not do this"},
    404: {"description": "No such claim or document that you can see"},
}
UPLOAD_PROBLEMS: dict[int | str, dict[str, object]] = {
    **PROBLEMS,
    413: {"description": "The file is over the size limit"},
    415: {
        "description": "Not multipart/form-data, or the file's bytes are not one of: "
        + ", ".join(ALLOWED_CONTENT_TYPES)
    },
    422: {"description": "A field missing or invalid, an empty file, or one the virus scanner refused"},
    503: {"description": "The virus scanner did not answer; nothing was stored. See Retry-After"},
}


def _documents(context: ContextDep) -> DocumentConfig:
    """The document store and limits; documents are not offered (404) when the API was built without them."""
    config: DocumentConfig | None = context.config.documents
    if config is None:
        raise NotFoundError("documents are not enabled on this API")
    return config


@router.post(
    "/v1/claims/{claim_id}/documents",
    status_code=status.HTTP_201_CREATED,
    response_model=DocumentRead,
    responses=UPLOAD_PROBLEMS,
    openapi_extra={"requestBody": UPLOAD_BODY},
)
async def upload_document(
    claim_id: str, request: Request, principal: Reader, context: ContextDep, response: Response
) -> DocumentRead:
    """Attach a document to a claim you may read (its submitter's organization, its adjuster, supervisors, admins),
    or a new version of one (`document_id`; old versions stay). The bytes decide the format, not the header; the file
    is scanned before anything is stored. Answers 201 with the document; follow the Location for its bytes."""
    config = _documents(context)
    await documents.writable_claim(context, principal, claim_id)  # 404 before a foreign claim's upload is read
    upload = await read_upload(request, config.max_bytes)
    document = await documents.upload(
        context,
        config,
        principal,
        claim_id,
        documents.Upload(
            data=upload.data, type=upload.form.type, name=upload.form.name, document_id=upload.form.document_id
        ),
    )
    response.headers["Location"] = f"/v1/documents/{document.document_id}"
    return DocumentRead.of(document)


@router.get("/v1/claims/{claim_id}/documents", response_model=DocumentList, responses=PROBLEMS)
async def list_claim_documents(claim_id: str, principal: Reader, context: ContextDep) -> DocumentList:
    """A claim's documents, oldest first, each as its latest version shows it with how many versions it has.
    Audited."""
    found = await documents.list_for_claim(context, principal, claim_id)
    return DocumentList(data=[DocumentRead.of(document) for document in found], count=len(found))


@router.get(
    "/v1/documents/{document_id}",
    response_class=Response,
    responses={
        **PROBLEMS,
        200: {
            "description": "The document's bytes, in its content type",
            "content": {kind: {"schema": {"type": "string", "format": "binary"}} for kind in ALLOWED_CONTENT_TYPES},
        },
    },
)
async def read_document(
    document_id: str,
    principal: Reader,
    context: ContextDep,
    version: Annotated[int | None, Query(ge=1, description="An older version; default: the latest")] = None,
) -> Response:
    """A document's bytes (the latest version, or `version`), as an attachment. Audited."""
    content = await documents.read(context, _documents(context), principal, document_id, version)
    document, kept = content.document, content.version
    return Response(
        content=content.data,
        media_type=kept.content_type,
        headers={
            "Content-Disposition": content_disposition(document.name),
            "X-Content-Type-Options": "nosniff",
            "Cache-Control": "private, no-store",
            "ETag": f'"{kept.sha256}"',
            "X-Document-Version": str(kept.version),
        },
    )


@router.get("/v1/documents", response_model=DocumentPage, responses={**PROBLEMS, 400: {"description": "Bad cursor"}})
async def search_documents(
    principal: Reader,
    context: ContextDep,
    claim_id: Annotated[str | None, Query(pattern=r"^[0-9a-f]{32}$")] = None,
    type_: Annotated[DocumentType | None, Query(alias="type")] = None,
    name: Annotated[str | None, Query(min_length=1, max_length=200, description="Part of the name, any case")] = None,
    since: Annotated[datetime | None, Query(description="Uploaded (latest version) at or after this time")] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: Annotated[str | None, Query(max_length=500)] = None,
) -> DocumentPage:
    """Documents of the claims you may see, most recently uploaded first, by claim, type, name and date, a page at a
    time. Audited (a name searched for is not recorded, only that one was)."""
    if since is not None and since.tzinfo is None:
        since = since.replace(tzinfo=UTC)
    page = await documents.search(
        context, principal, claim_id=claim_id, type=type_, name=name, since=since, limit=limit, cursor=cursor
    )
    items = [DocumentRead.of(document) for document in page.items]
    return DocumentPage(data=items, count=len(items), next_cursor=page.next_cursor)


def content_disposition(name: str) -> str:
    """`attachment` with the name as an ASCII fallback (anything else replaced by _) and as RFC 5987 UTF-8, so no
    name can break out of the header or be taken for a path."""
    fallback = "".join(c if c.isascii() and c.isprintable() and c not in '"\\/;' else "_" for c in name)
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(name, safe='')}"
