"""Processor webhook signatures: HMAC-SHA256 over the timestamp, the path and the body; fresh and used once.

The processor sends `X-Sandbox-Timestamp` (Unix seconds) and `X-Sandbox-Signature: v1=<hex>`, the
HMAC of `"<timestamp>.<path>.<body>"`. A notice older (or newer) than MAX_SKEW is refused, and so is
a signature already seen within that window: a captured webhook cannot be sent again, nor to another
claim's path. The replay memory is this process's (a replayed notice only wakes a poll early).
"""

from __future__ import annotations

import hashlib
import hmac
import time

#: How far a webhook's timestamp may be from this machine's clock.
MAX_SKEW_SECONDS = 300
TIMESTAMP_HEADER = "X-Sandbox-Timestamp"
SIGNATURE_HEADER = "X-Sandbox-Signature"


class WebhookRefused(Exception):
    """Why a webhook is not taken (our own words, safe to answer with)."""


def expected_signature(secret: str, timestamp: str, path: str, body: bytes) -> str:
    digest = hmac.new(secret.encode(), f"{timestamp}.{path}.".encode() + body, hashlib.sha256).hexdigest()
    return f"v1={digest}"


class WebhookVerifier:
    """Checks each webhook's signature and freshness, and remembers the signatures it took until they expire."""

    def __init__(self, secret: str) -> None:
        self._secret = secret
        self._seen: dict[str, float] = {}

    def verify(self, *, timestamp: str | None, signature: str | None, path: str, body: bytes) -> None:
        if not timestamp or not signature:
            raise WebhookRefused(
                f"send {TIMESTAMP_HEADER} and {SIGNATURE_HEADER} (v1=HMAC-SHA256 of timestamp.path.body)"
            )
        try:
            sent_at = int(timestamp)
        except ValueError:
            raise WebhookRefused(f"{TIMESTAMP_HEADER} must be Unix seconds") from None
        now = time.time()
        if abs(now - sent_at) > MAX_SKEW_SECONDS:
            raise WebhookRefused(f"the webhook's timestamp is more than {MAX_SKEW_SECONDS} s from now")
        expected = expected_signature(self._secret, timestamp, path, body)
        if not hmac.compare_digest(expected.encode(), signature.encode("utf-8", "replace")):
            raise WebhookRefused("the webhook signature does not match its timestamp, path and body")
        self._forget_expired(now)
        if signature in self._seen:
            raise WebhookRefused("this webhook was delivered already")
        self._seen[signature] = sent_at + MAX_SKEW_SECONDS

    def _forget_expired(self, now: float) -> None:
        for seen, until in list(self._seen.items()):
            if until < now:
                del self._seen[seen]
