"""Supporting documents of a claim: their types, the file formats taken (sniffed from the bytes), names, records."""

from __future__ import annotations

import hashlib
import re
import unicodedata
from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict

#: The largest document taken by default, in bytes (CLAIMFLOW_DOCUMENTS_MAX_BYTES).
DEFAULT_MAX_DOCUMENT_BYTES = 10 * 1024 * 1024
#: The longest document name, in characters.
NAME_MAX_CHARS = 200


class DocumentType(StrEnum):
    """What a supporting document is, as adjusters ask for them."""

    MEDICAL_RECORD = "medical_record"
    ITEMIZED_BILL = "itemized_bill"
    LAB_REPORT = "lab_report"
    REFERRAL = "referral"
    PRIOR_AUTHORIZATION = "prior_authorization"
    EXPLANATION_OF_BENEFITS = "explanation_of_benefits"
    OTHER = "other"


#: The file formats taken, by their magic bytes: (content type, signatures the file may start with).
BINARY_FORMATS: tuple[tuple[str, tuple[bytes, ...]], ...] = (
    ("application/pdf", (b"%PDF-",)),
    ("image/png", (b"\x89PNG\r\n\x1a\n",)),
    ("image/jpeg", (b"\xff\xd8\xff",)),
    ("image/tiff", (b"II*\x00", b"MM\x00*")),
)
PLAIN_TEXT = "text/plain"
#: Every content type a document may have, for the refusal that names them.
ALLOWED_CONTENT_TYPES: tuple[str, ...] = (*(kind for kind, _ in BINARY_FORMATS), PLAIN_TEXT)
#: Control characters plain text must not hold: every C0 and C1 control but tab, line feed, form feed, carriage return.
TEXT_CONTROLS = re.compile("[\x00-\x08\x0b\x0e-\x1f\x7f-\x9f]")


def sniff_content_type(data: bytes) -> str | None:
    """The content type the bytes themselves show (never what the client claimed); None: not a format taken.

    Plain text is UTF-8 (with or without a byte order mark) holding no control character but tab, line and page
    breaks, so a binary file of another kind is not taken for text."""
    for content_type, signatures in BINARY_FORMATS:
        if data.startswith(signatures):
            return content_type
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return None
    if TEXT_CONTROLS.search(text):
        return None
    return PLAIN_TEXT


def sha256_of(data: bytes) -> str:
    """The content address of a document's bytes: their SHA-256, in lowercase hex."""
    return hashlib.sha256(data).hexdigest()


def name_problem(name: str) -> str | None:
    """What is wrong with a document name (shown to the caller, never logged), or None when it is fine."""
    if not name.strip():
        return "a document name must not be blank"
    if len(name) > NAME_MAX_CHARS:
        return f"a document name is at most {NAME_MAX_CHARS} characters"
    if any(unicodedata.category(char) in ("Cc", "Cf") for char in name):
        return "a document name must not contain control or format characters"
    return None


class DocumentVersion(BaseModel):
    """One uploaded version of a document: the bytes' address, size and format, who uploaded it and when."""

    model_config = ConfigDict(frozen=True)

    version: int
    sha256: str
    size: int
    content_type: str
    uploaded_by: str
    uploaded_at: datetime


class ClaimDocument(BaseModel):
    """A supporting document of a claim, as its latest version shows it; `versions` counts every version kept.

    `name` may hold protected health information (a patient's name in a file name): it is shown to those who may
    read the claim, and never written to logs or the audit log."""

    model_config = ConfigDict(frozen=True)

    document_id: str
    claim_id: str
    org_id: str
    type: DocumentType
    name: str
    versions: int
    created_at: datetime
    latest: DocumentVersion
