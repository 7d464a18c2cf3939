"""Request limits per caller, counted in PostgreSQL so that every API replica counts against one limit."""

from __future__ import annotations

import hashlib
import math
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.repositories.rate_limits import RateLimitRepository


def caller_key(*parts: str) -> str:
    """A caller's key: a SHA-256 of what names it (kind, role, subject or address), so the table holds no name,
    address or token."""
    return hashlib.sha256("\x00".join(parts).encode()).hexdigest()


@dataclass(frozen=True)
class Spent:
    """One request counted: whether it is within the limit, and when the window ends."""

    allowed: bool
    requests: int
    retry_after_seconds: int


class RequestBudget:
    """At most `limit` requests per caller in each fixed window of `window` (on the database's clock, so replicas
    agree on the window): one upsert per request. Windows that ended before the previous one are purged, at most
    once per window by each process."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        *,
        limit: int,
        window: timedelta,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if limit < 1 or window <= timedelta(0):
            raise ValueError("a request budget needs a limit of at least 1 and a positive window")
        self.limit = limit
        self.window = window
        self._sessions = sessions
        self._clock = clock
        self._next_purge: float | None = None

    async def spend(self, caller: str) -> Spent:
        """Count one request of `caller` (a caller_key) in the current window."""
        async with self._autocommit() as repository:
            requests, seconds_left = await repository.count(caller=caller, window=self.window)
        if self._next_purge is None or self._clock() >= self._next_purge:
            self._next_purge = self._clock() + self.window.total_seconds()
            await self.purge()
        return Spent(
            allowed=requests <= self.limit, requests=requests, retry_after_seconds=max(1, math.ceil(seconds_left))
        )

    async def purge(self) -> int:
        """Delete the windows that ended before the previous one began; how many went."""
        async with self._autocommit() as repository:
            return await repository.purge(keep=2 * self.window)

    @asynccontextmanager
    async def _autocommit(self) -> AsyncIterator[RateLimitRepository]:
        """The repository on a connection in autocommit: each of its writes is one statement, atomic on its own, so
        it needs no BEGIN and COMMIT round trips. The connection goes back to the pool transactional again."""
        async with self._sessions() as session:
            await session.connection(execution_options={"isolation_level": "AUTOCOMMIT"})
            yield RateLimitRepository(session)
