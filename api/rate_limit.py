"""The rate limit per caller: each authenticated request is charged to its principal (subject and role), each
refused one to its client address; past the limit the answer is 429 with Retry-After."""

from __future__ import annotations

from datetime import timedelta

from fastapi import Request
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from api.errors import RateLimitedError
from services.access import Principal
from services.rate_limits import RequestBudget, caller_key


class RateLimiter:
    """Charges requests to callers against a shared RequestBudget; without one (a limit of 0) it charges nothing."""

    def __init__(self, budget: RequestBudget | None) -> None:
        self.budget = budget

    async def charge_principal(self, principal: Principal) -> None:
        """Count a request of this principal; RateLimitedError past the limit."""
        await self._charge(caller_key("principal", principal.role.value, principal.sub))

    async def charge_address(self, request: Request) -> None:
        """Count a request that named no valid principal against its client address (as uvicorn reports it: behind
        a trusted proxy, the forwarded one); RateLimitedError past the limit."""
        await self._charge(caller_key("address", request.client.host if request.client else "unknown"))

    async def _charge(self, caller: str) -> None:
        if self.budget is None:
            return
        spent = await self.budget.spend(caller)
        if not spent.allowed:
            window = self.budget.window.total_seconds()
            per = "a minute" if window == 60 else f"per {window:g} seconds"
            raise RateLimitedError(
                f"too many requests: this API takes at most {self.budget.limit} {per} from one caller; "
                f"retry after {spent.retry_after_seconds} seconds",
                retry_after_seconds=spent.retry_after_seconds,
            )


def rate_limiter(sessions: async_sessionmaker[AsyncSession], *, limit: int, window_seconds: float) -> RateLimiter:
    """A limiter of `limit` requests per caller per window, counted in the database; a limit of 0 charges nothing."""
    if limit <= 0:
        return RateLimiter(None)
    return RateLimiter(RequestBudget(sessions, limit=limit, window=timedelta(seconds=window_seconds)))
