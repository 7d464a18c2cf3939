"""Refused requests on /v1 (401, 403, 404, 409) are audited: who, which route template and method, status, code."""

from __future__ import annotations

import logging
import re

from fastapi import Request
from fastapi.routing import APIRoute

from services import audit

log = logging.getLogger(__name__)

#: The answers that are refusals worth an audit row.
AUDITED_STATUSES = frozenset({401, 403, 404, 409})
#: Methods named as they are; anything else (a made-up token) is recorded as "other".
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
#: A claim id as claimflow makes them; any other path value is the caller's free text and is not recorded.
CLAIM_ID = re.compile(r"[0-9a-f]{32}")
#: The audit log's actor column holds at most this many characters.
ACTOR_MAX_CHARS = 64


async def audit_refusal(request: Request, status: int, code: str) -> None:
    """Append the refusal's audit row in a unit of work of its own. A failure to write it is logged (without the
    request's content) and swallowed: the caller still gets its 401/403/404/409, never a 500."""
    if status not in AUDITED_STATUSES or not request.url.path.startswith("/v1/"):
        return
    try:
        await audit.record_refusal(
            request.app.state.context,
            actor=actor_of(request),
            method=request.method if request.method in METHODS else "other",
            route=route_of(request),
            status=status,
            code=code,
            claim_id=claim_id_of(request),
        )
    except Exception as exc:
        log.warning("audit.refusal_not_recorded status=%s code=%s error=%s", status, code, type(exc).__name__)


def actor_of(request: Request) -> str:
    """The principal a valid token named (set by api.deps.current_principal), else "anonymous"."""
    principal = getattr(request.state, "principal", None)
    label = getattr(principal, "label", None)
    return label[:ACTOR_MAX_CHARS] if isinstance(label, str) else audit.ANONYMOUS


def route_of(request: Request) -> str:
    """The matched route's template (/v1/claims/{claim_id}), never the raw path; "unmatched" when none matched."""
    route = request.scope.get("route")
    return route.path if isinstance(route, APIRoute) else "unmatched"


def claim_id_of(request: Request) -> str | None:
    claim_id = request.path_params.get("claim_id")
    return claim_id if isinstance(claim_id, str) and CLAIM_ID.fullmatch(claim_id) else None
