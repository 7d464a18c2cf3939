"""Fault injection for /v1/*: errors, lost replies, slow answers and timeouts, as ASGI middleware."""

from __future__ import annotations

import asyncio
import logging
import random
import threading
from dataclasses import dataclass

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from sandbox.models import FaultSettings
from sandbox.processor import Processor, error_body

log = logging.getLogger(__name__)

FAULTY_PREFIX = "/v1/"


@dataclass(frozen=True)
class FaultPlan:
    """What to do to one request."""

    error: bool = False
    timeout: bool = False
    slow: bool = False
    lost_reply: bool = False


class FaultInjector:
    """The current fault settings and a (seedable) random source that decides per request."""

    def __init__(self, seed: int | None) -> None:
        self._default_seed = seed
        self._lock = threading.Lock()
        self.settings = FaultSettings()
        self._random = random.Random(seed)

    def configure(self, settings: FaultSettings) -> None:
        """Replace the settings (reseeding when a seed is given)."""
        with self._lock:
            self.settings = settings
            if settings.seed is not None:
                self._random = random.Random(settings.seed)

    def reset(self) -> None:
        """Back to no faults and the configured seed."""
        with self._lock:
            self.settings = FaultSettings()
            self._random = random.Random(self._default_seed)

    def plan(self) -> FaultPlan:
        """Decide the faults for one request (four draws, always, so a seed gives a stable sequence)."""
        with self._lock:
            s = self.settings
            if not (s.error_rate or s.timeout_rate or s.slow_rate or s.lost_reply_rate):
                return FaultPlan()
            draws = [self._random.random() for _ in range(4)]
        error = draws[0] < s.error_rate
        timeout = not error and draws[1] < s.timeout_rate
        slow = not error and not timeout and draws[2] < s.slow_rate
        lost = not error and not timeout and draws[3] < s.lost_reply_rate
        return FaultPlan(error=error, timeout=timeout, slow=slow, lost_reply=lost)


async def _send_json(send: Send, status: int, body: bytes) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": body})


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
        plan = self.injector.plan()
        settings = self.injector.settings
        if plan.error:
            self.processor.count("fault_error")
            log.info("fault injected: error")
            await _send_json(send, 500, error_body("injected_error", "sandbox injected an error; nothing was done"))
            return
        if plan.timeout:
            self.processor.count("fault_timeout")
            log.info("fault injected: timeout")
            await asyncio.sleep(settings.timeout_seconds)
            await _send_json(send, 504, error_body("injected_timeout", "sandbox injected a timeout; nothing was done"))
            return
        if plan.slow:
            self.processor.count("fault_slow")
            log.info("fault injected: slow")
            await asyncio.sleep(settings.slow_seconds)
        if not plan.lost_reply:
            await self.app(scope, receive, send)
            return

        async def swallow(message: Message) -> None:
            return None

        await self.app(scope, receive, swallow)
        self.processor.count("fault_lost_reply")
        log.info("fault injected: lost reply")
        await _send_json(
            send,
            500,
            error_body(
                "injected_lost_reply", "sandbox did the work but lost the reply; retry with the same Idempotency-Key"
            ),
        )
