"""Document shapes: a document as read and listed, a page of a search, and the upload form's fields."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from domain.documents import NAME_MAX_CHARS, ClaimDocument, DocumentType

#: A document id as claimflow makes them.
DocumentId = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{32}$")]


class DocumentVersionRead(BaseModel):
    version: int
    sha256: str = Field(description="SHA-256 of the bytes (lowercase hex): the content address")
    size: int = Field(description="Bytes")
    content_type: str = Field(description="Sniffed from the bytes when uploaded, not taken from the client")
    uploaded_by: str
    uploaded_at: datetime


class DocumentRead(BaseModel):
    document_id: str
    claim_id: str
    type: DocumentType
    name: str = Field(description="As the uploader named it (may name the patient: shown to whom may read the claim)")
    versions: int = Field(description="How many versions are kept (1 to versions; GET …?version=N reads one)")
    created_at: datetime
    latest: DocumentVersionRead
    href: str = Field(description="Where the latest version's bytes are: GET it")

    @classmethod
    def of(cls, document: ClaimDocument) -> DocumentRead:
        return cls(
            document_id=document.document_id,
            claim_id=document.claim_id,
            type=document.type,
            name=document.name,
            versions=document.versions,
            created_at=document.created_at,
            latest=DocumentVersionRead(**document.latest.model_dump()),
            href=f"/v1/documents/{document.document_id}",
        )


class DocumentList(BaseModel):
    """A claim's documents, oldest first, each as its latest version shows it."""

    data: list[DocumentRead]
    count: int


class DocumentPage(BaseModel):
    """One page of a search, most recently uploaded first; pass next_cursor back as `cursor` for the next."""

    data: list[DocumentRead]
    count: int
    next_cursor: str | None


class DocumentForm(BaseModel):
    """The upload form's text fields (the file is the `file` part)."""

    model_config = ConfigDict(extra="forbid")

    type: DocumentType
    name: Annotated[str, StringConstraints(min_length=1, max_length=NAME_MAX_CHARS)] | None = None
    document_id: DocumentId | None = None


#: The multipart body POST /v1/claims/{claim_id}/documents takes, for the OpenAPI document.
UPLOAD_BODY: dict[str, object] = {
    "required": True,
    "content": {
        "multipart/form-data": {
            "schema": {
                "type": "object",
                "required": ["file", "type"],
                "properties": {
                    "file": {
                        "type": "string",
                        "format": "binary",
                        "description": "The document: PDF, PNG, JPEG, TIFF or plain text (UTF-8), judged by its "
                        "bytes; not empty, at most the configured size (10 MiB by default)",
                    },
                    "type": {"type": "string", "enum": [kind.value for kind in DocumentType]},
                    "name": {
                        "type": "string",
                        "minLength": 1,
                        "maxLength": NAME_MAX_CHARS,
                        "description": "The document's name; default: the file's name. For a new version: renames "
                        "the document (absent: the name stays)",
                    },
                    "document_id": {
                        "type": "string",
                        "pattern": "^[0-9a-f]{32}$",
                        "description": "Upload a new version of this document of the claim (its type must match)",
                    },
                },
            }
        }
    },
}
