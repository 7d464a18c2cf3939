"""Event streams: a caller's claims' status changes as server-sent events, resumable from the last one seen."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime

from db.repositories.events import FeedPosition
from db.uow import UnitOfWork
from services.access import Principal, scope_of
from services.claims import visible_record
from services.context import ServiceContext

#: Events read per look.
BATCH = 100


async def opening(
    context: ServiceContext, principal: Principal, *, claim_id: str | None, last_event_id: str | None
) -> FeedPosition:
    """Where a stream starts, checked before it opens (so a refusal is an ordinary error answer): after
    `Last-Event-ID`; else, for one claim, its first event; else the events from now on. Audited."""
    async with UnitOfWork(context.sessions) as uow:
        if claim_id is not None:
            claim_id = (await visible_record(uow, principal, claim_id)).claim_id
        if last_event_id:
            position = FeedPosition.parse(last_event_id)
        elif claim_id is not None:
            position = FeedPosition(txid=0)
        else:
            position = await uow.events.head()
        await uow.audit.append(
            claim_id=claim_id,
            actor=principal.label,
            action="events.stream",
            at=datetime.now(UTC),
            details={"from": str(position), "resumed": bool(last_event_id)},
            event_key=f"events-{uuid.uuid4().hex}",
        )
        await uow.commit()
    return position


async def stream(
    context: ServiceContext,
    principal: Principal,
    position: FeedPosition,
    *,
    claim_id: str | None,
    poll_seconds: float,
    keepalive_seconds: float,
    max_seconds: float,
    disconnected: Callable[[], Awaitable[bool]],
) -> AsyncIterator[str]:
    """SSE frames (`id`, `event`, `data`) of the events after `position` that the caller may see, as they happen;
    a comment now and then keeps proxies from closing a quiet stream. Ends when the client goes, or after
    `max_seconds` (the client reconnects with the last id it saw, as SSE clients do)."""
    scope = scope_of(principal)
    quiet_since = opened = time.monotonic()
    while not await disconnected() and time.monotonic() - opened < max_seconds:
        async with UnitOfWork(context.sessions) as uow:
            events = await uow.events.after(position, scope=scope, claim_id=claim_id, limit=BATCH)
        for event in events:
            yield f"id: {event.position}\nevent: claim.status_changed\ndata: {json.dumps(event.body())}\n\n"
            position = FeedPosition.parse(event.position)
        if events:
            quiet_since = time.monotonic()
            continue
        if time.monotonic() - quiet_since >= keepalive_seconds:
            yield ": keep-alive\n\n"
            quiet_since = time.monotonic()
        await asyncio.sleep(poll_seconds)
