"""DocumentRepository: a claim's documents and their versions (metadata only; the bytes are in the document store)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Select, select, tuple_, update

from db.models import ClaimDocument as DocumentRow
from db.models import ClaimDocumentVersion as VersionRow
from db.models import ClaimRegister
from db.records import ClaimScope, Record
from db.repositories.base import Repository
from db.repositories.claims import scoped
from db.repositories.cursor import decode_cursor, encode_cursor
from domain.documents import ClaimDocument, DocumentType, DocumentVersion

#: What a document is read with: its row and its latest version's.
DOCUMENT_COLUMNS = (
    DocumentRow.document_id,
    DocumentRow.claim_id,
    DocumentRow.org_id,
    DocumentRow.type,
    DocumentRow.name,
    DocumentRow.current_version,
    DocumentRow.created_at,
    DocumentRow.updated_at,
    VersionRow.version,
    VersionRow.sha256,
    VersionRow.size,
    VersionRow.content_type,
    VersionRow.uploaded_by,
    VersionRow.uploaded_at,
)
#: Update rows without synchronizing the ORM's identity map (reads select columns, never mapped objects).
NO_SYNC = {"synchronize_session": False}


class DocumentPage(Record):
    """One page of documents, most recently uploaded first; pass `next_cursor` back for the next page."""

    items: list[ClaimDocument]
    next_cursor: str | None


def _latest() -> Select[*tuple[Any, ...]]:
    """Documents joined with their latest version and their claim (for the caller's scope)."""
    return (
        select(*DOCUMENT_COLUMNS)
        .join(
            VersionRow,
            (VersionRow.document_id == DocumentRow.document_id) & (VersionRow.version == DocumentRow.current_version),
        )
        .join(ClaimRegister, ClaimRegister.claim_id == DocumentRow.claim_id)
    )


def _document(row: Any) -> ClaimDocument:
    return ClaimDocument(
        document_id=row.document_id,
        claim_id=row.claim_id,
        org_id=row.org_id,
        type=DocumentType(row.type),
        name=row.name,
        versions=row.current_version,  # versions are 1..current_version, and none is ever removed
        created_at=row.created_at,
        latest=_version(row),
    )


def _version(row: Any) -> DocumentVersion:
    return DocumentVersion(
        version=row.version,
        sha256=row.sha256,
        size=row.size,
        content_type=row.content_type,
        uploaded_by=row.uploaded_by,
        uploaded_at=row.uploaded_at,
    )


def _like_pattern(text: str) -> str:
    """`text` as a literal inside ILIKE '%…%' (its %, _ and \\ escaped)."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


class DocumentRepository(Repository):
    """Documents are added with their first version; each later upload adds a version and moves current_version.
    Versions are never changed or removed."""

    async def add(
        self,
        *,
        document_id: str,
        claim_id: str,
        org_id: str,
        type: DocumentType,
        name: str,
        version: DocumentVersion,
    ) -> None:
        """A new document with its first version (`version.version` must be 1)."""
        if version.version != 1:
            raise ValueError(f"a new document starts at version 1, not {version.version}")
        at = version.uploaded_at
        await self.session.execute(
            self._insert(DocumentRow).values(
                document_id=document_id,
                claim_id=claim_id,
                org_id=org_id,
                type=type.value,
                name=name,
                current_version=1,
                created_at=at,
                updated_at=at,
            )
        )
        await self._insert_version(document_id, version)

    async def lock(self, document_id: str, claim_id: str) -> ClaimDocument | None:
        """The claim's document, its row locked until the transaction ends (so concurrent uploads of new versions
        number them one after another); None if the claim has no such document."""
        locked = (
            select(DocumentRow.document_id)
            .where(DocumentRow.document_id == document_id, DocumentRow.claim_id == claim_id)
            .with_for_update()
        )
        if await self.session.scalar(locked) is None:
            return None
        row = (await self.session.execute(_latest().where(DocumentRow.document_id == document_id))).one()
        return _document(row)

    async def add_version(self, document_id: str, *, name: str, version: DocumentVersion) -> None:
        """The next version of a locked document (see lock), which becomes its current one, under `name`."""
        await self._insert_version(document_id, version)
        await self.session.execute(
            update(DocumentRow)
            .where(DocumentRow.document_id == document_id)
            .values(current_version=version.version, name=name, updated_at=version.uploaded_at)
            .execution_options(**NO_SYNC)
        )

    async def _insert_version(self, document_id: str, version: DocumentVersion) -> None:
        await self.session.execute(self._insert(VersionRow).values(document_id=document_id, **version.model_dump()))

    async def get(self, document_id: str, *, scope: ClaimScope) -> ClaimDocument | None:
        """The document, if its claim is within `scope`; None otherwise (whether it exists or not)."""
        stmt, params = scoped(_latest().where(DocumentRow.document_id == document_id), scope)
        row = (await self.session.execute(stmt, params)).one_or_none()
        return None if row is None else _document(row)

    async def version(self, document_id: str, version: int) -> DocumentVersion | None:
        """One version of a document (read get first: this one does not check the caller's scope)."""
        row = (
            await self.session.execute(
                select(VersionRow).where(VersionRow.document_id == document_id, VersionRow.version == version)
            )
        ).scalar_one_or_none()
        return None if row is None else _version(row)

    async def for_claim(self, claim_id: str) -> list[ClaimDocument]:
        """Every document of a claim, as its latest version shows it, oldest document first."""
        stmt = (
            _latest().where(DocumentRow.claim_id == claim_id).order_by(DocumentRow.created_at, DocumentRow.document_id)
        )
        return [_document(row) for row in (await self.session.execute(stmt)).all()]

    async def ids_for_claim(self, claim_id: str) -> list[str]:
        """The ids of a claim's documents, oldest first."""
        stmt = (
            select(DocumentRow.document_id)
            .where(DocumentRow.claim_id == claim_id)
            .order_by(DocumentRow.created_at, DocumentRow.document_id)
        )
        return list((await self.session.scalars(stmt)).all())

    async def search(
        self,
        *,
        scope: ClaimScope,
        claim_id: str | None,
        type: DocumentType | None,
        name: str | None,
        since: datetime | None,
        limit: int,
        cursor: str | None,
    ) -> DocumentPage:
        """Documents of the claims within `scope`, most recently uploaded first, filtered (the name: a substring,
        ignoring case), one page at a time (keyset on updated_at, document_id)."""
        if limit < 1:
            raise ValueError(f"limit must be at least 1, not {limit}")
        stmt, params = scoped(_latest(), scope)
        if claim_id is not None:
            stmt = stmt.where(DocumentRow.claim_id == claim_id)
        if type is not None:
            stmt = stmt.where(DocumentRow.type == type.value)
        if name is not None:
            stmt = stmt.where(DocumentRow.name.ilike(_like_pattern(name), escape="\\"))
        if since is not None:
            stmt = stmt.where(DocumentRow.updated_at >= since)
        if cursor is not None:
            updated_at, after_id = decode_cursor(cursor, datetime, str)
            stmt = stmt.where(tuple_(DocumentRow.updated_at, DocumentRow.document_id) < (updated_at, after_id))
        stmt = stmt.order_by(DocumentRow.updated_at.desc(), DocumentRow.document_id.desc()).limit(limit + 1)
        rows = (await self.session.execute(stmt, params)).all()
        items = [_document(row) for row in rows[:limit]]
        last = rows[limit - 1] if len(rows) > limit else None
        next_cursor = encode_cursor(last.updated_at, last.document_id) if last is not None else None
        return DocumentPage(items=items, next_cursor=next_cursor)
