"""Errors the persistence layer raises, in the domain's error hierarchy."""

from __future__ import annotations

from domain.errors import DomainError, RefusedError


class ClaimNotFoundError(DomainError):
    """No claim has this id (HTTP 404)."""

    code = "claim_not_found"

    def __init__(self, claim_id: str) -> None:
        super().__init__(f"no claim has id {claim_id}")
        self.claim_id = claim_id


class InvalidCursorError(RefusedError):
    """A page cursor this service did not issue, or one that was altered."""

    code = "invalid_cursor"

    def __init__(self) -> None:
        super().__init__("cursor: not a cursor this service issued; pass next_cursor from the previous page unchanged")


class NoteNotFoundError(DomainError):
    """A status change names a note that is not one of its claim's notes (never stored, or discarded)."""

    code = "note_not_found"

    def __init__(self, claim_id: str, note_id: str) -> None:
        super().__init__(f"claim {claim_id} has no note {note_id}")
        self.claim_id = claim_id
        self.note_id = note_id
