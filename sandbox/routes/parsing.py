"""Request parsing shared by the routes: JSON bodies, idempotency keys and the error shape."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any, TypeVar

from fastapi import Request, Response
from pydantic import BaseModel, ValidationError

from sandbox.processor import Reply, error_body

M = TypeVar("M", bound=BaseModel)

IDEMPOTENCY_HEADER = "Idempotency-Key"
MAX_KEY_LENGTH = 255


def json_response(status_code: int, body: bytes) -> Response:
    """A response carrying exact JSON bytes."""
    return Response(content=body, status_code=status_code, media_type="application/json")


def reply_response(reply: Reply) -> Response:
    """The HTTP form of a processor Reply."""
    return json_response(reply.status_code, reply.body)


def field_errors(errors: Sequence[Any]) -> list[dict[str, str]]:
    """Pydantic/FastAPI errors as [{"field": "lines.0.charge", "message": ..., "type": ...}]."""
    return [
        {
            "field": ".".join(str(part) for part in error.get("loc", ()) if part != "body"),
            "message": str(error.get("msg", "")),
            "type": str(error.get("type", "")),
        }
        for error in errors
    ]


def invalid_body(errors: Sequence[Any]) -> Response:
    """422 with one entry per failing field."""
    return json_response(
        422, error_body("invalid_body", "the request body does not parse", fields=field_errors(errors))
    )


def idempotency_key(request: Request) -> str | Response:
    """The Idempotency-Key header, or a 400 response when it is missing or unusable."""
    key = request.headers.get(IDEMPOTENCY_HEADER, "").strip()
    if not key:
        return json_response(400, error_body("missing_idempotency_key", f"the {IDEMPOTENCY_HEADER} header is required"))
    if len(key) > MAX_KEY_LENGTH:
        return json_response(
            400,
            error_body("invalid_idempotency_key", f"the {IDEMPOTENCY_HEADER} header is longer than {MAX_KEY_LENGTH}"),
        )
    return key


async def parse_body(request: Request, model: type[M]) -> tuple[M, object] | Response:
    """(parsed model, raw JSON value), or a 422 response naming the failing fields."""
    raw_bytes = await request.body()
    try:
        raw: object = json.loads(raw_bytes)
    except ValueError:
        return json_response(
            422,
            error_body(
                "invalid_body",
                "the request body is not valid JSON",
                fields=[{"field": "", "message": "not valid JSON", "type": "json_invalid"}],
            ),
        )
    try:
        return model.model_validate(raw), raw
    except ValidationError as exc:
        return invalid_body(exc.errors(include_url=False, include_input=False))
