"""Document use cases: upload (a new document or a new version), list a claim's, read the bytes, search.

Whoever may read a claim (services.access.scope_of, applied in SQL) may read and upload its documents: the
submitter's organization, the assigned adjuster, the team's supervisor, admins. Anything outside the caller's scope
is "not found". Bytes are checked (size, format sniffed from the bytes, not empty) and scanned before anything is
stored; no transaction is held while the scanner or the store is called. Every read and write is audited with ids,
type, version and SHA-256 only: a document's name may be PHI and never reaches the audit log or a log line.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

from db.repositories.documents import DocumentPage
from db.uow import UnitOfWork
from domain.documents import (
    ALLOWED_CONTENT_TYPES,
    DEFAULT_MAX_DOCUMENT_BYTES,
    ClaimDocument,
    DocumentType,
    DocumentVersion,
    name_problem,
    sha256_of,
    sniff_content_type,
)
from domain.errors import DomainError
from services.access import Principal, scope_of
from services.claims import visible_record
from services.context import ServiceContext
from services.errors import InvalidFieldError, NotFoundError
from services.storage import DocumentStore, StoredDocumentMissingError, VirusScanner, VirusScannerUnavailableError


class DocumentTooLargeError(DomainError):
    """The file is over the size limit (HTTP 413)."""

    code = "document_too_large"


class UnsupportedDocumentFormatError(DomainError):
    """The file's bytes are not of a format taken (HTTP 415)."""

    code = "unsupported_document_format"


class EmptyDocumentError(InvalidFieldError):
    """The file has no bytes."""

    code = "document_empty"


class InfectedDocumentError(InvalidFieldError):
    """The virus scanner found a signature in the file."""

    code = "document_infected"


class ScannerUnavailableError(DomainError):
    """The virus scanner could not say whether the file is clean, so it was not taken (HTTP 503)."""

    code = "virus_scanner_unavailable"
    retry_after_seconds = 5


@dataclass(frozen=True)
class DocumentConfig:
    """Where documents are stored, what scans them before that, and the largest one taken."""

    store: DocumentStore
    scanner: VirusScanner | None = None
    max_bytes: int = DEFAULT_MAX_DOCUMENT_BYTES


@dataclass(frozen=True)
class Upload:
    """A file to attach: a new document (no `document_id`), or a new version of the claim's document
    `document_id` (its type must be the document's; a `name` renames it, None keeps its name)."""

    data: bytes
    type: DocumentType
    name: str | None
    document_id: str | None = None


@dataclass(frozen=True)
class DocumentContent:
    """One version of a document and its bytes."""

    document: ClaimDocument
    version: DocumentVersion
    data: bytes


def too_large(max_bytes: int) -> DocumentTooLargeError:
    return DocumentTooLargeError(
        f"file: the document is over {max_bytes} bytes, the largest taken; split it, or send a smaller scan"
    )


def check_content(data: bytes, max_bytes: int) -> str:
    """The content type the bytes show; refused when empty (422), too large (413) or not a format taken (415)."""
    if not data:
        raise EmptyDocumentError(
            "file: the file is empty",
            path="file",
            problem="the file has no bytes: attach the document itself",
            rule="document.not_empty",
        )
    if len(data) > max_bytes:
        raise too_large(max_bytes)
    content_type = sniff_content_type(data)
    if content_type is None:
        raise UnsupportedDocumentFormatError(
            "file: the file's bytes are not of a format taken; send one of " + ", ".join(ALLOWED_CONTENT_TYPES)
        )
    return content_type


def checked_name(name: str) -> str:
    problem = name_problem(name)
    if problem is not None:
        raise InvalidFieldError(f"name: {problem}", path="name", problem=problem, rule="document.name")
    return name.strip()


async def writable_claim(context: ServiceContext, principal: Principal, claim_id: str) -> None:
    """NotFoundError unless the caller may upload to this claim: checked before an upload's bytes are read."""
    async with UnitOfWork(context.sessions) as uow:
        await visible_record(uow, principal, claim_id)


async def upload(
    context: ServiceContext, config: DocumentConfig, principal: Principal, claim_id: str, sent: Upload
) -> ClaimDocument:
    """Check the bytes, scan them, store them under their SHA-256 (once, however often they are uploaded), then
    record the document or its new version with an audit entry in one transaction."""
    async with UnitOfWork(context.sessions) as uow:
        await visible_record(uow, principal, claim_id)
    name = None if sent.name is None else checked_name(sent.name)
    content_type = check_content(sent.data, config.max_bytes)
    await _scan(config.scanner, sent.data)
    sha256 = sha256_of(sent.data)
    await config.store.put(sha256, sent.data)
    now = datetime.now(UTC)
    async with UnitOfWork(context.sessions) as uow:
        record = await visible_record(uow, principal, claim_id)  # still visible: its scope may have moved meanwhile
        if sent.document_id is None:
            if name is None:
                raise InvalidFieldError(
                    "name: a new document needs a name", path="name", problem="name the document", rule="required"
                )
            document_id = uuid.uuid4().hex
            version = _version(1, sha256, sent.data, content_type, principal, now)
            await uow.documents.add(
                document_id=document_id,
                claim_id=record.claim_id,
                org_id=record.org_id,
                type=sent.type,
                name=name,
                version=version,
            )
        else:
            document_id = sent.document_id
            current = await uow.documents.lock(document_id, record.claim_id) if _is_id(document_id) else None
            if current is None:
                raise NotFoundError(f"document_id: claim {record.claim_id} has no document {document_id}")
            if current.type is not sent.type:
                problem = f"a new version keeps its document's type, {current.type.value}"
                raise InvalidFieldError(f"type: {problem}", path="type", problem=problem, rule="document.same_type")
            version = _version(current.versions + 1, sha256, sent.data, content_type, principal, now)
            await uow.documents.add_version(document_id, name=name or current.name, version=version)
        await _audit(uow, principal, "document.uploaded", record.claim_id, document_id, sent.type, version)
        await uow.commit()
        document = await uow.documents.get(document_id, scope=scope_of(principal))
    assert document is not None  # written and committed just now, on a claim in the caller's scope
    return document


async def list_for_claim(context: ServiceContext, principal: Principal, claim_id: str) -> list[ClaimDocument]:
    """A claim's documents (latest version of each, with its version count); the listing is audited."""
    async with UnitOfWork(context.sessions) as uow:
        record = await visible_record(uow, principal, claim_id)
        documents = await uow.documents.for_claim(record.claim_id)
        await uow.audit.append(
            claim_id=record.claim_id,
            actor=principal.label,
            action="documents.list",
            at=datetime.now(UTC),
            details={"document_ids": [document.document_id for document in documents], "count": len(documents)},
            event_key=f"documents-list-{uuid.uuid4().hex}",
        )
        await uow.commit()
    return documents


async def attached_document_ids(context: ServiceContext, principal: Principal, claim_id: str) -> list[str]:
    """The ids of the documents attached to a claim so far (oldest first), for a caller who may see the claim: what
    an answer to a request for information names."""
    async with UnitOfWork(context.sessions) as uow:
        record = await visible_record(uow, principal, claim_id)
        return await uow.documents.ids_for_claim(record.claim_id)


async def read(
    context: ServiceContext, config: DocumentConfig, principal: Principal, document_id: str, version: int | None
) -> DocumentContent:
    """One version of a document (the latest by default) with its bytes; the read is audited."""
    async with UnitOfWork(context.sessions) as uow:
        document = await uow.documents.get(document_id, scope=scope_of(principal)) if _is_id(document_id) else None
        if document is None:
            raise NotFoundError(f"no document {document_id} that you can see")
        wanted = document.latest if version is None else await uow.documents.version(document_id, version)
        if wanted is None:
            raise NotFoundError(f"version: document {document_id} has versions 1 to {document.versions}")
        await _audit(uow, principal, "document.read", document.claim_id, document_id, document.type, wanted)
        await uow.commit()
    try:
        data = await config.store.get(wanted.sha256)
    except StoredDocumentMissingError:
        raise RuntimeError(f"document {document_id} version {wanted.version}: its bytes are not in the store") from None
    if sha256_of(data) != wanted.sha256:
        raise RuntimeError(f"document {document_id} version {wanted.version}: the stored bytes do not match their hash")
    return DocumentContent(document=document, version=wanted, data=data)


async def search(
    context: ServiceContext,
    principal: Principal,
    *,
    claim_id: str | None,
    type: DocumentType | None,
    name: str | None,
    since: datetime | None,
    limit: int,
    cursor: str | None,
) -> DocumentPage:
    """Documents of the claims the caller may see, most recently uploaded first, filtered, a page at a time; the
    search is audited with its filters (whether a name was searched, never the name) and the ids it showed."""
    async with UnitOfWork(context.sessions) as uow:
        page = await uow.documents.search(
            scope=scope_of(principal),
            claim_id=claim_id,
            type=type,
            name=name,
            since=since,
            limit=limit,
            cursor=cursor,
        )
        filters: dict[str, object] = {
            "claim_id": claim_id,
            "type": type.value if type else None,
            "since": since.isoformat() if since else None,
        }
        await uow.audit.append(
            claim_id=None,
            actor=principal.label,
            action="documents.search",
            at=datetime.now(UTC),
            details={
                "filters": {key: value for key, value in filters.items() if value is not None},
                "by_name": name is not None,  # a name may be PHI: only that one was searched for
                "limit": limit,
                "from_cursor": cursor is not None,
                "document_ids": [item.document_id for item in page.items],
                "count": len(page.items),
            },
            event_key=f"documents-search-{uuid.uuid4().hex}",
        )
        await uow.commit()
    return page


async def _scan(scanner: VirusScanner | None, data: bytes) -> None:
    if scanner is None:
        return
    try:
        signature = await scanner.scan(data)
    except VirusScannerUnavailableError as error:
        raise ScannerUnavailableError(
            f"the virus scanner could not check the file ({error}); nothing was stored: retry shortly"
        ) from None
    if signature is not None:
        problem = f"the virus scanner found {signature}; nothing was stored"
        raise InfectedDocumentError(f"file: {problem}", path="file", problem=problem, rule="document.virus_free")


def _version(
    number: int, sha256: str, data: bytes, content_type: str, principal: Principal, at: datetime
) -> DocumentVersion:
    return DocumentVersion(
        version=number,
        sha256=sha256,
        size=len(data),
        content_type=content_type,
        uploaded_by=principal.label[:64],
        uploaded_at=at,
    )


async def _audit(
    uow: UnitOfWork,
    principal: Principal,
    action: str,
    claim_id: str,
    document_id: str,
    type: DocumentType,
    version: DocumentVersion,
) -> None:
    """An audit entry naming the document by id, type, version and SHA-256 (never by its name)."""
    await uow.audit.append(
        claim_id=claim_id,
        actor=principal.label,
        action=action,
        at=datetime.now(UTC),
        details={
            "document_id": document_id,
            "type": type.value,
            "version": version.version,
            "sha256": version.sha256,
            "size": version.size,
            "content_type": version.content_type,
        },
        event_key=f"{action}-{uuid.uuid4().hex}",
    )


def _is_id(document_id: str) -> bool:
    return len(document_id) == 32 and all(c in "0123456789abcdef" for c in document_id)
