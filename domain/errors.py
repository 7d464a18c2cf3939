"""Domain errors: each carries a stable code that the API maps to a status."""

from __future__ import annotations


class DomainError(Exception):
    """Base of every business error; `code` is stable and machine-readable."""

    code = "domain_error"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class ConflictError(DomainError):
    """The request conflicts with the claim's current state."""

    code = "conflict"


class RefusedError(DomainError):
    """The request is well formed but breaks a business rule."""

    code = "refused"
