"""Where documents' bytes live, addressed by their SHA-256: the store protocol, and the virus-scan hook's."""

from __future__ import annotations

from typing import Protocol


class DocumentStore(Protocol):
    """Content-addressed bytes: the key is the SHA-256 (lowercase hex) of what is stored under it."""

    async def put(self, sha256: str, data: bytes) -> bool:
        """Store `data` under `sha256` unless something is stored there already; whether this call wrote it."""
        ...

    async def get(self, sha256: str) -> bytes:
        """The bytes stored under `sha256`; StoredDocumentMissingError if there are none."""
        ...


class VirusScanner(Protocol):
    """Looks at a document's bytes before anything is stored."""

    async def scan(self, data: bytes) -> str | None:
        """The signature found in `data`, or None when it is clean; VirusScannerUnavailableError when the scanner
        cannot say (a document is never taken unscanned)."""
        ...


class StoredDocumentMissingError(LookupError):
    """The store has nothing under a key the database names (the message holds the key only)."""


class VirusScannerUnavailableError(RuntimeError):
    """The scanner did not answer, or answered with an error (the message says which, never the bytes)."""
