"""The errors use cases raise, in the domain's hierarchy (domain.errors.DomainError); the API maps each to a status.

Besides their own, use cases let through the persistence layer's errors named here (a bad page cursor).
"""

from __future__ import annotations

from typing import Any

from db.errors import ClaimNotFoundError as ClaimNotFoundError
from db.errors import InvalidCursorError as InvalidCursorError
from domain.errors import ConflictError, DomainError, RefusedError


class NotFoundError(DomainError):
    """No such thing that this caller may see."""

    code = "not_found"


class ForbiddenError(DomainError):
    """The caller may not do this."""

    code = "forbidden"


class ClaimFinalError(ConflictError):
    """The claim is final (or its workflow has ended): it can no longer change."""


class IdempotencyKeyReusedError(ConflictError):
    """An Idempotency-Key already used with another claim body."""


class CodeExistsError(ConflictError):
    """A code the table has already."""


class InvalidFieldError(RefusedError):
    """A field breaks a rule; `errors` names it (path, message, rule)."""

    code = "unprocessable"

    def __init__(self, message: str, *, path: str, problem: str, rule: str) -> None:
        super().__init__(message)
        self.errors: list[dict[str, Any]] = [{"path": path, "message": problem, "rule": rule}]


class UpdateRefusedError(ConflictError):
    """The claim's workflow did not take an update and never will: its validator or handler refused it (`code`
    is the refusing rule's, e.g. decision_refused, not_cancellable), or the workflow has ended."""

    def __init__(self, code: str | None, message: str) -> None:
        super().__init__(message)
        if code:
            self.code = code


class WorkflowServiceUnavailableError(DomainError):
    """Temporal did not answer in time; retry after `retry_after_seconds`."""

    code = "workflow_service_unavailable"
    retry_after_seconds = 2


class UpdateNotFinishedError(DomainError):
    """The workflow did not finish applying an update in time; it may still apply it."""

    code = "workflow_update_timeout"
