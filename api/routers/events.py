"""/v1/events and /v1/claims/{id}/events: claims' status changes as server-sent events (resume with Last-Event-ID)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import APIRouter, Header, Request
from fastapi.responses import StreamingResponse

from api.deps import ApiContext, ContextDep, Reader
from db.repositories.events import FeedPosition
from services import events
from services.access import Principal

router = APIRouter(tags=["events"])

LastEventId = Annotated[str | None, Header(alias="Last-Event-ID", max_length=200)]
STREAM: dict[int | str, dict[str, object]] = {
    200: {"content": {"text/event-stream": {}}, "description": "Server-sent events, one per status change"},
    400: {"description": "Bad Last-Event-ID"},
    401: {"description": "No or an invalid bearer token"},
    404: {"description": "No such claim that you can see"},
}


@router.get("/v1/events", response_class=StreamingResponse, responses=STREAM)
async def every_event(
    request: Request, principal: Reader, context: ContextDep, last_event_id: LastEventId = None
) -> StreamingResponse:
    """The status changes of every claim you may see (a submitter its organization's, an adjuster those assigned to
    them, …) from now on, or after `Last-Event-ID`: `id`, `event: claim.status_changed` and JSON `data` (ids,
    status, reason, amounts, link — no patient data). Audited when it opens."""
    position = await events.opening(context, principal, claim_id=None, last_event_id=last_event_id)
    return _response(request, context, principal, position, claim_id=None)


@router.get("/v1/claims/{claim_id}/events", response_class=StreamingResponse, responses=STREAM)
async def claim_events(
    claim_id: str, request: Request, principal: Reader, context: ContextDep, last_event_id: LastEventId = None
) -> StreamingResponse:
    """One claim's status changes from its first (or after `Last-Event-ID`), then as they happen."""
    position = await events.opening(context, principal, claim_id=claim_id, last_event_id=last_event_id)
    return _response(request, context, principal, position, claim_id=claim_id)


def _response(
    request: Request, context: ApiContext, principal: Principal, position: FeedPosition, *, claim_id: str | None
) -> StreamingResponse:
    frames: AsyncIterator[str] = events.stream(
        context,
        principal,
        position,
        claim_id=claim_id,
        poll_seconds=context.config.event_stream_poll_seconds,
        keepalive_seconds=context.config.event_stream_keepalive_seconds,
        max_seconds=context.config.event_stream_max_seconds,
        disconnected=request.is_disconnected,
    )
    headers = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
    return StreamingResponse(frames, media_type="text/event-stream", headers=headers)
