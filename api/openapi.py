"""The OpenAPI document as the API really answers: every error is problem JSON, every secured operation
documents 401 and 403, every /v1 operation 429 (the rate limit) — so a client generated from it, and the
schema tests, know every answer."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from api.errors import PROBLEM

PROBLEM_SCHEMA: dict[str, Any] = {
    "title": "Problem",
    "description": "An error (RFC 9457 problem details); `code` is stable, `detail` says what to do.",
    "type": "object",
    "required": ["type", "title", "status", "detail", "code"],
    "properties": {
        "type": {"type": "string", "description": "https://claimflow.dev/problems/<code>"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "code": {"type": "string"},
        "errors": {
            "type": "array",
            "description": "One entry per field in error",
            "items": {
                "type": "object",
                "required": ["path", "message"],
                "properties": {"path": {"type": "string"}, "message": {"type": "string"}, "rule": {"type": "string"}},
            },
        },
    },
}

#: Answers every operation of a kind may give, whatever its own declaration says.
SECURED = {
    "401": "No bearer token, or an invalid one",
    "403": "The token's role may not do this",
}
EVERY_V1 = {"429": "Too many requests from this caller; see Retry-After"}


def install(app: FastAPI) -> None:
    """Generate the document once, on first request, with every error answer documented as problem JSON."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            document = get_openapi(
                title=app.title,
                version=app.version,
                summary=app.summary,
                description=app.description,
                routes=app.routes,
            )
            app.openapi_schema = with_problems(document)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def with_problems(document: dict[str, Any]) -> dict[str, Any]:
    """Document the errors every operation can answer, each as problem JSON."""
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    schemas["Problem"] = PROBLEM_SCHEMA
    for schema in ("HTTPValidationError", "ValidationError"):
        schemas.pop(schema, None)  # 422s are problem JSON too
    problem = {PROBLEM: {"schema": {"$ref": "#/components/schemas/Problem"}}}
    for path, operations in document.get("paths", {}).items():
        for operation in operations.values():
            responses: dict[str, Any] = operation.setdefault("responses", {})
            extra = {**(SECURED if operation.get("security") else {}), **(EVERY_V1 if path.startswith("/v1/") else {})}
            for status, description in extra.items():
                responses.setdefault(status, {"description": description})
            for status, response in responses.items():
                if status[0] in "45":
                    response["content"] = problem
                    if response.get("description") == "Validation Error":
                        response["description"] = "The request breaks a rule of its schema or of claimflow's"
    return document
