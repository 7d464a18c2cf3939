"""The webhook notifier: POSTs a signed settle notice to each claim's callback_url, once."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import logging
import ssl
import time
from pathlib import Path
from urllib.parse import urlsplit

import httpx

from sandbox.processor import Processor, dumps
from sandbox.store import WebhookJob

log = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-Sandbox-Signature"
TIMESTAMP_HEADER = "X-Sandbox-Timestamp"
TICK_SECONDS = 0.2
MAX_RETRIES = 5
BACKOFF_SECONDS = (0.2, 0.4, 0.8, 1.6, 3.2)
BATCH = 200


def sign(secret: str, timestamp: str, path: str, body: bytes) -> str:
    """`v1=` and the hex HMAC-SHA256 of "<timestamp>.<path>.<body>" under the webhook secret: a receiver can
    refuse a stale notice, a replayed one, and one moved to another claim's callback path."""
    digest = hmac.new(secret.encode(), f"{timestamp}.{path}.".encode() + body, hashlib.sha256).hexdigest()
    return f"v1={digest}"


class WebhookNotifier:
    """A background loop that delivers due webhooks, retrying with back-off."""

    def __init__(
        self,
        processor: Processor,
        secret: str,
        transport: httpx.AsyncBaseTransport | None = None,
        *,
        ca_file: Path | None = None,
    ) -> None:
        self.processor = processor
        self.secret = secret
        self.transport = transport
        self.ca_file = ca_file
        self._loop_task: asyncio.Task[None] | None = None
        self._deliveries: set[asyncio.Task[None]] = set()
        self._client: httpx.AsyncClient | None = None

    def _verify(self) -> ssl.SSLContext | bool:
        """Verify https callbacks against the system's roots, plus the configured CA."""
        if self.ca_file is None:
            return True
        context = ssl.create_default_context()
        context.load_verify_locations(cafile=self.ca_file)
        return context

    async def start(self) -> None:
        """Start ticking (the HTTP client is made on the first delivery: it is not free to build)."""
        self._loop_task = asyncio.create_task(self._run(), name="sandbox-webhooks")

    async def stop(self) -> None:
        """Stop ticking and cancel deliveries in flight (they are retried after a restart)."""
        tasks = [t for t in (self._loop_task, *self._deliveries) if t is not None]
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._loop_task = None
        self._deliveries.clear()
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    async def _run(self) -> None:
        while True:
            try:
                self.tick()
            except Exception:
                log.exception("webhook tick failed")
            await asyncio.sleep(TICK_SECONDS)

    def tick(self) -> None:
        """Start a delivery for every webhook that is due."""
        jobs = self.processor.take_due_webhooks(BATCH)
        if not jobs:
            return
        if self._client is None:
            self._client = httpx.AsyncClient(transport=self.transport, timeout=5.0, verify=self._verify())
        for job in jobs:
            task = asyncio.create_task(self._deliver(job, self._client))
            self._deliveries.add(task)
            task.add_done_callback(self._deliveries.discard)

    async def _deliver(self, job: WebhookJob, client: httpx.AsyncClient) -> None:
        body = dumps(
            {"payer_claim_id": job.payer_claim_id, "claim_id": job.claim_id, "category": job.category}
        ).encode()
        timestamp = str(int(time.time()))
        headers = {
            "content-type": "application/json",
            TIMESTAMP_HEADER: timestamp,
            SIGNATURE_HEADER: sign(self.secret, timestamp, urlsplit(job.callback_url).path, body),
        }
        delivered = False
        try:
            response = await client.post(job.callback_url, content=body, headers=headers)
            delivered = response.is_success
        except Exception as exc:  # any failure to deliver is retried, never fatal to the loop
            log.info("webhook for %s failed: %s", job.payer_claim_id, type(exc).__name__)
        retries_done = job.attempts  # this attempt is number attempts + 1, so `attempts` retries are spent
        retry_in = BACKOFF_SECONDS[retries_done] if not delivered and retries_done < MAX_RETRIES else None
        if not delivered:
            log.info("webhook for %s not delivered (attempt %d)", job.payer_claim_id, job.attempts + 1)
        self.processor.webhook_outcome(job, delivered, retry_in)
