"""Fault injection for /v1/*, as ASGI middleware.

Before the work: errors, timeouts and slow answers. After the work (the handler ran and committed its
effect): lost replies (500), dropped replies (the connection closed without an answer) and held replies
(the answer kept back for a while). Every request a fault is holding is listed in `Holds`, so a test can
act while it is held (GET /_sandbox/holds).
"""

from __future__ import annotations

import asyncio
import logging
import random
import threading
import time
from collections import deque
from dataclasses import asdict, dataclass
from typing import Any, Literal

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from sandbox.models import Endpoint, FaultSettings
from sandbox.processor import Processor, error_body

log = logging.getLogger(__name__)

FAULTY_PREFIX = "/v1/"
IDEMPOTENCY_HEADER = b"idempotency-key"

HoldFault = Literal["slow", "timeout", "held_reply"]
HoldState = Literal["holding", "released", "client_gone"]


@dataclass(frozen=True)
class FaultPlan:
    """What to do to one request."""

    error: bool = False
    timeout: bool = False
    slow: bool = False
    lost_reply: bool = False
    dropped_reply: bool = False
    held_reply: bool = False

    @property
    def after_the_work(self) -> bool:
        """Whether the handler's answer must be caught (lost, dropped or held) instead of sent as it goes."""
        return self.lost_reply or self.dropped_reply or self.held_reply

    @property
    def any(self) -> bool:
        return self.error or self.timeout or self.slow or self.after_the_work


class ReplyDropped(ConnectionError):
    """Raised to an in-process caller (no socket to close) instead of dropping the connection."""


def endpoint_of(method: str, path: str) -> Endpoint | None:
    """The endpoint a /v1/* request is for (None for anything else, e.g. an unknown path)."""
    if method == "POST" and path == "/v1/claims":
        return "submit"
    if method == "GET" and path.startswith("/v1/claims/") and path.endswith("/status"):
        return "status"
    if method == "POST" and path == "/v1/payments":
        return "pay"
    if method == "POST" and path == "/v1/eligibility":
        return "eligibility"
    return None


def idempotency_key_of(scope: Scope) -> str | None:
    """The request's Idempotency-Key header, if any."""
    for name, value in scope.get("headers", ()):
        if name.lower() == IDEMPOTENCY_HEADER:
            return bytes(value).decode("latin-1")
    return None


@dataclass
class Hold:
    """One request a fault held (or is holding)."""

    id: int
    fault: HoldFault
    endpoint: Endpoint | None
    method: str
    path: str
    idempotency_key: str | None
    #: The status of the answer being held back (held_reply only: the work is done, its answer is known).
    status_code: int | None
    state: HoldState
    since: float
    until: float | None = None


class Holds:
    """The requests faults are holding now and the last ones they held, in memory (not in the ledger)."""

    KEEP = 500

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._items: deque[Hold] = deque(maxlen=self.KEEP)
        self._next = 1

    def start(
        self,
        fault: HoldFault,
        endpoint: Endpoint | None,
        scope: Scope,
        key: str | None,
        status_code: int | None = None,
    ) -> Hold:
        with self._lock:
            hold = Hold(
                id=self._next,
                fault=fault,
                endpoint=endpoint,
                method=str(scope.get("method", "")),
                path=str(scope.get("path", "")),
                idempotency_key=key,
                status_code=status_code,
                state="holding",
                since=time.time(),
            )
            self._next += 1
            self._items.append(hold)
            return hold

    def end(self, hold: Hold, state: HoldState) -> None:
        with self._lock:
            hold.state = state
            hold.until = time.time()

    def snapshot(self) -> list[dict[str, Any]]:
        """Every hold kept, oldest first."""
        with self._lock:
            return [asdict(hold) for hold in self._items]

    def clear(self) -> None:
        with self._lock:
            self._items.clear()


class FaultInjector:
    """The current fault settings and a (seedable) random source that decides per request."""

    def __init__(self, seed: int | None) -> None:
        self._default_seed = seed
        self._lock = threading.Lock()
        self.settings = FaultSettings()
        self._random = random.Random(seed)
        self._per_key: dict[tuple[Endpoint | None, str], int] = {}
        self.holds = Holds()

    def configure(self, settings: FaultSettings) -> None:
        """Replace the settings (reseeding when a seed is given); max_per_key counts afresh."""
        with self._lock:
            self.settings = settings
            self._per_key.clear()
            if settings.seed is not None:
                self._random = random.Random(settings.seed)

    def reset(self) -> None:
        """Back to no faults and the configured seed; forget the holds."""
        with self._lock:
            self.settings = FaultSettings()
            self._per_key.clear()
            self._random = random.Random(self._default_seed)
        self.holds.clear()

    def plan(self, endpoint: Endpoint | None = None, key: str | None = None) -> FaultPlan:
        """Decide the faults for one request.

        Four draws, always, for the faults that came first (error, timeout, slow, lost reply), so a seed
        gives the same sequence as before the others existed; two more only when a dropped or held reply
        is configured. A request to an endpoint outside `endpoints`, or whose key has had its
        `max_per_key` faults, is not faulted and draws nothing.
        """
        with self._lock:
            s = self.settings
            rates = (s.error_rate, s.timeout_rate, s.slow_rate, s.lost_reply_rate)
            after = (s.dropped_reply_rate, s.held_reply_rate)
            if not any(rates) and not any(after):
                return FaultPlan()
            if s.endpoints is not None and endpoint not in s.endpoints:
                return FaultPlan()
            counted = (endpoint, key) if key is not None and s.max_per_key is not None else None
            if counted is not None and s.max_per_key is not None and self._per_key.get(counted, 0) >= s.max_per_key:
                return FaultPlan()
            draws = [self._random.random() for _ in range(4)]
            draws += [self._random.random() for _ in range(2)] if any(after) else [1.0, 1.0]
            error = draws[0] < s.error_rate
            timeout = not error and draws[1] < s.timeout_rate
            worked = not error and not timeout
            plan = FaultPlan(
                error=error,
                timeout=timeout,
                slow=worked and draws[2] < s.slow_rate,
                lost_reply=worked and draws[3] < s.lost_reply_rate,
                dropped_reply=worked and draws[4] < s.dropped_reply_rate,
                held_reply=worked and draws[5] < s.held_reply_rate,
            )
            if counted is not None and plan.any:
                self._per_key[counted] = self._per_key.get(counted, 0) + 1
            return plan


async def _send_json(send: Send, status: int, body: bytes) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": body})


async def _client_gone(receive: Receive) -> None:
    """Return once the client has gone away (the request body has been read already)."""
    while (await receive())["type"] != "http.disconnect":
        pass


async def _wait_or_client_gone(seconds: float, receive: Receive) -> bool:
    """Wait `seconds`, or less if the client goes away first; True if it went away."""
    watcher = asyncio.ensure_future(_client_gone(receive))
    try:
        done, _ = await asyncio.wait({watcher}, timeout=seconds)
    finally:
        watcher.cancel()
    return watcher in done and not watcher.cancelled() and watcher.exception() is None


async def _drop_connection(receive: Receive) -> None:
    """Close the client's connection without a byte of answer.

    ASGI has no message for that; the server's own connection is reached through `receive` (uvicorn's
    receive is a method of the request cycle, which holds the connection's transport). In process,
    without a connection (httpx.ASGITransport), ReplyDropped is raised to the caller instead.
    """
    transport = getattr(getattr(receive, "__self__", None), "transport", None)
    abort = getattr(transport, "abort", None)
    if not callable(abort):
        raise ReplyDropped("sandbox did the work and dropped the reply (no connection to close in process)")
    abort()
    for _ in range(3):  # let the server see the connection lost, so it does not answer in our place
        await asyncio.sleep(0)


class FaultMiddleware:
    """Applies the injector's plan to every /v1/* request and counts each fault in the ledger."""

    def __init__(self, app: ASGIApp, injector: FaultInjector, processor: Processor) -> None:
        self.app = app
        self.injector = injector
        self.processor = processor

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not str(scope.get("path", "")).startswith(FAULTY_PREFIX):
            await self.app(scope, receive, send)
            return
        endpoint = endpoint_of(str(scope.get("method", "")), str(scope.get("path", "")))
        key = idempotency_key_of(scope)
        plan = self.injector.plan(endpoint, key)
        settings = self.injector.settings
        holds = self.injector.holds
        if plan.error:
            self.processor.count("fault_error")
            log.info("fault injected: error")
            await _send_json(send, 500, error_body("injected_error", "sandbox injected an error; nothing was done"))
            return
        if plan.timeout:
            self.processor.count("fault_timeout")
            log.info("fault injected: timeout")
            hold = holds.start("timeout", endpoint, scope, key)
            try:
                await asyncio.sleep(settings.timeout_seconds)
            finally:
                holds.end(hold, "released")
            await _send_json(send, 504, error_body("injected_timeout", "sandbox injected a timeout; nothing was done"))
            return
        if plan.slow:
            self.processor.count("fault_slow")
            log.info("fault injected: slow")
            hold = holds.start("slow", endpoint, scope, key)
            try:
                await asyncio.sleep(settings.slow_seconds)
            finally:
                holds.end(hold, "released")
        if not plan.after_the_work:
            await self.app(scope, receive, send)
            return

        answer: list[Message] = []

        async def keep(message: Message) -> None:
            answer.append(message)

        await self.app(scope, receive, keep)  # the work is done and committed; its answer is in `answer`
        if plan.held_reply:
            self.processor.count("fault_held_reply")
            status = next((int(m["status"]) for m in answer if m["type"] == "http.response.start"), None)
            log.info("fault injected: held reply (%s)", status)
            hold = holds.start("held_reply", endpoint, scope, key, status)
            gone = False
            try:
                gone = await _wait_or_client_gone(settings.held_reply_seconds, receive)
            finally:
                holds.end(hold, "client_gone" if gone else "released")
            if gone:
                return  # nobody is left to answer
        if plan.dropped_reply:
            self.processor.count("fault_dropped_reply")
            log.info("fault injected: dropped reply")
            await _drop_connection(receive)
            return
        if plan.lost_reply:
            self.processor.count("fault_lost_reply")
            log.info("fault injected: lost reply")
            await _send_json(
                send,
                500,
                error_body(
                    "injected_lost_reply",
                    "sandbox did the work but lost the reply; retry with the same Idempotency-Key",
                ),
            )
            return
        for message in answer:
            await send(message)
