"""Problem JSON (RFC 9457): every error the API returns, rendered in one place."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import InterfaceError, OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException

from db.errors import InvalidCursorError
from domain.errors import ConflictError, DomainError, RefusedError

PROBLEM = "application/problem+json"


class ApiError(Exception):
    """An error with an HTTP status, a stable code and a message that says what to do."""

    status = 400
    code = "bad_request"
    title = "Bad request"

    def __init__(
        self,
        detail: str,
        *,
        errors: list[dict[str, Any]] | None = None,
        headers: dict[str, str] | None = None,
        code: str | None = None,
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        if code is not None:
            self.code = code
        self.errors = errors
        self.headers = headers


class Unauthorized(ApiError):
    status, code, title = 401, "unauthorized", "Not authenticated"


class Forbidden(ApiError):
    status, code, title = 403, "forbidden", "Not allowed"


class NotFound(ApiError):
    status, code, title = 404, "not_found", "Not found"


class Conflict(ApiError):
    status, code, title = 409, "conflict", "Conflict"


class Unprocessable(ApiError):
    status, code, title = 422, "unprocessable", "Unprocessable request"


class Unavailable(ApiError):
    status, code, title = 503, "unavailable", "Service unavailable"


class GatewayTimeout(ApiError):
    status, code, title = 504, "gateway_timeout", "Gateway timeout"


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


def install(app: FastAPI) -> None:
    """Register the handlers that turn every error into problem JSON."""

    async def api_error(_: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, ApiError)
        return problem(exc.status, exc.code, exc.title, exc.detail, errors=exc.errors, headers=exc.headers)

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

    async def domain_error(_: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, DomainError)
        if isinstance(exc, InvalidCursorError):
            return problem(400, exc.code, "Bad cursor", exc.message)
        if isinstance(exc, ConflictError):
            return problem(409, exc.code, "Conflict", exc.message)
        if isinstance(exc, RefusedError):
            return problem(422, exc.code, "Refused", exc.message)
        return problem(400, exc.code, "Bad request", exc.message)

    async def http_error(_: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, StarletteHTTPException)
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
    app.add_exception_handler(ApiError, api_error)
    app.add_exception_handler(RequestValidationError, validation_error)
    app.add_exception_handler(DomainError, domain_error)
    app.add_exception_handler(StarletteHTTPException, http_error)
