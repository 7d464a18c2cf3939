"""Problem JSON (RFC 9457): every error the API returns, rendered in one place.

Every business error is a domain.errors.DomainError with a stable `code`; its HTTP status comes from one
table, keyed by error class (a class takes its nearest listed base's status) and, through a registry of
every DomainError subclass, by code — so a refusal that comes back from a workflow as an ApplicationError
whose type is the refusing rule's code answers exactly as that rule's error class would.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import InterfaceError, OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException

# Modules that define DomainError subclasses (the workflow's refusals among them), imported for the registry below.
import domain.assignment
import domain.decision  # noqa: F401
from api.refusal_audit import audit_refusal
from domain.eligibility import PayerAnswerError, PayerUnavailableError
from domain.errors import ConflictError, DomainError, RefusedError
from domain.status import InvalidTransitionError
from services.documents import (
    DocumentTooLargeError,
    ScannerUnavailableError,
    UnsupportedDocumentFormatError,
)
from services.errors import (
    ClaimNotFoundError,
    ForbiddenError,
    InvalidCursorError,
    InvalidFieldError,
    NotFoundError,
    UpdateNotFinishedError,
    WorkflowServiceUnavailableError,
)

PROBLEM = "application/problem+json"


class NotAuthenticatedError(DomainError):
    """No bearer token, or one that is not valid; `challenge` is the WWW-Authenticate header to send, if any."""

    code = "unauthorized"

    def __init__(self, message: str, *, challenge: str | None = None) -> None:
        super().__init__(message)
        self.challenge = challenge


class IdentityProviderUnavailableError(DomainError):
    """The OpenID Connect provider's keys cannot be fetched, so a token cannot be verified (it may well be valid)."""

    code = "identity_provider_unavailable"

    def __init__(self, message: str, *, retry_after_seconds: int) -> None:
        super().__init__(message)
        self.retry_after_seconds = retry_after_seconds


class RateLimitedError(DomainError):
    """The caller sent more requests in this window than the limit allows; retry after `retry_after_seconds`."""

    code = "rate_limited"

    def __init__(self, message: str, *, retry_after_seconds: int) -> None:
        super().__init__(message)
        self.retry_after_seconds = retry_after_seconds


#: The HTTP status and problem title of each kind of error; a class not listed takes its nearest listed base's.
STATUS_OF: dict[type[DomainError], tuple[int, str]] = {
    DomainError: (400, "Bad request"),
    InvalidCursorError: (400, "Bad cursor"),
    NotAuthenticatedError: (401, "Not authenticated"),
    ForbiddenError: (403, "Not allowed"),
    NotFoundError: (404, "Not found"),
    ClaimNotFoundError: (404, "Not found"),
    ConflictError: (409, "Conflict"),
    InvalidTransitionError: (409, "Conflict"),
    RefusedError: (422, "Unprocessable request"),
    WorkflowServiceUnavailableError: (503, "Service unavailable"),
    IdentityProviderUnavailableError: (503, "Service unavailable"),
    PayerUnavailableError: (503, "Payer unavailable"),
    PayerAnswerError: (502, "Bad answer from the payer"),
    RateLimitedError: (429, "Too many requests"),
    UpdateNotFinishedError: (504, "Gateway timeout"),
    DocumentTooLargeError: (413, "Document too large"),
    UnsupportedDocumentFormatError: (415, "Unsupported document format"),
    ScannerUnavailableError: (503, "Virus scanner unavailable"),
}


def status_of_class(error: type[DomainError]) -> tuple[int, str]:
    return next(STATUS_OF[base] for base in error.__mro__ if base in STATUS_OF)


def _error_classes(root: type[DomainError] = DomainError) -> Iterator[type[DomainError]]:
    yield root
    for sub in root.__subclasses__():
        yield from _error_classes(sub)


def _registry() -> dict[str, tuple[int, str]]:
    """Every DomainError subclass's code and its status; a code two classes share must mean one status."""
    by_code: dict[str, tuple[int, str]] = {}
    for error in _error_classes():
        status = status_of_class(error)
        if by_code.setdefault(error.code, status)[0] != status[0]:
            raise RuntimeError(f"error code {error.code!r} means both {by_code[error.code][0]} and {status[0]}")
    return by_code


#: Error code -> (status, title), for every DomainError subclass of the modules imported above.
STATUS_OF_CODE = _registry()


def status_of(error: DomainError) -> tuple[int, str]:
    """An error's status and title: by its code (which may be a refusing rule's, see UpdateRefusedError), else
    by its class."""
    return STATUS_OF_CODE.get(error.code) or status_of_class(type(error))


def problem(
    status: int,
    code: str,
    title: str,
    detail: str,
    *,
    errors: list[dict[str, Any]] | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    body: dict[str, Any] = {
        "type": f"https://claimflow.dev/problems/{code}",
        "title": title,
        "status": status,
        "detail": detail,
        "code": code,
    }
    if errors is not None:
        body["errors"] = errors
    return JSONResponse(body, status_code=status, media_type=PROBLEM, headers=headers)


def field_path(loc: tuple[int | str, ...] | list[int | str]) -> str:
    """('body', 'lines', 0, 'charge') -> 'lines[0].charge'."""
    path = ""
    for part in loc:
        if part in ("body", "query", "path", "header") and not path:
            continue
        path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
    return path or "body"


def domain_problem(error: DomainError) -> JSONResponse:
    """The problem JSON of a business error."""
    status, title = status_of(error)
    headers: dict[str, str] = {}
    if isinstance(
        error,
        WorkflowServiceUnavailableError
        | IdentityProviderUnavailableError
        | RateLimitedError
        | PayerUnavailableError
        | ScannerUnavailableError,
    ):
        headers["Retry-After"] = str(error.retry_after_seconds)
    if isinstance(error, NotAuthenticatedError) and error.challenge:
        headers["WWW-Authenticate"] = error.challenge
    errors = error.errors if isinstance(error, InvalidFieldError) else None
    return problem(status, error.code, title, error.message, errors=errors, headers=headers or None)


def install(app: FastAPI) -> None:
    """Register the handlers that turn every error into problem JSON."""

    async def domain_error(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, DomainError)
        response = domain_problem(exc)
        await audit_refusal(request, response.status_code, exc.code)
        return response

    async def validation_error(_: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        errors = [
            {
                # A JSON syntax error's location is a character offset, not a field.
                "path": "body" if e.get("type") == "json_invalid" else field_path(e.get("loc", ())),
                "message": e.get("msg", "")
                + (f" at character {e['loc'][-1]}" if e.get("type") == "json_invalid" else ""),
                "rule": e.get("type", "invalid"),
            }
            for e in exc.errors()
        ]
        summary = "; ".join(f"{e['path']}: {e['message']}" for e in errors[:5])
        more = f" (and {len(errors) - 5} more)" if len(errors) > 5 else ""
        return problem(
            422, "invalid_request", "The request does not match the schema", f"{summary}{more}", errors=errors
        )

    async def http_error(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, StarletteHTTPException)
        await audit_refusal(request, exc.status_code, "http_error")
        return problem(
            exc.status_code, "http_error", str(exc.detail), str(exc.detail), headers=getattr(exc, "headers", None)
        )

    async def database_unavailable(_: Request, exc: Exception) -> JSONResponse:
        return problem(
            503,
            "database_unavailable",
            "Service unavailable",
            "the database did not answer; nothing was changed by this request that a retry would repeat — "
            "retry shortly with the same Idempotency-Key",
            headers={"Retry-After": "2"},
        )

    app.add_exception_handler(OperationalError, database_unavailable)
    app.add_exception_handler(InterfaceError, database_unavailable)
    app.add_exception_handler(RequestValidationError, validation_error)
    app.add_exception_handler(DomainError, domain_error)
    app.add_exception_handler(StarletteHTTPException, http_error)
