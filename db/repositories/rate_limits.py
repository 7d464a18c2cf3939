"""RateLimitRepository: count a caller's request in its window (one upsert), purge windows that have ended."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import Interval, bindparam, delete, extract, func, literal
from sqlalchemy.dialects.postgresql import insert

from db.base import UTCDateTime
from db.models.rate_limit import RateLimitWindow
from db.repositories.base import Repository
from db.statements import param, table_of

RATE_LIMIT_WINDOW = table_of(RateLimitWindow)
WINDOW = bindparam("window", type_=Interval())
EPOCH = literal(datetime(1970, 1, 1, tzinfo=UTC), UTCDateTime())

#: One more request of :caller in the current window (windows of :window from the epoch, on the database's clock, so
#: every replica agrees), RETURNING the window's count so far and the seconds until it ends; built once. Concurrent
#: requests from every replica serialise on the row, so the count is exact.
COUNT = (
    insert(RATE_LIMIT_WINDOW)
    .values(
        window_start=func.date_bin(WINDOW, func.now(), EPOCH),
        caller=param(RATE_LIMIT_WINDOW.c.caller),
        requests=1,
    )
    .on_conflict_do_update(
        index_elements=[RATE_LIMIT_WINDOW.c.window_start, RATE_LIMIT_WINDOW.c.caller],
        set_={"requests": RATE_LIMIT_WINDOW.c.requests + 1},
    )
    .returning(
        RATE_LIMIT_WINDOW.c.requests,
        extract("epoch", RATE_LIMIT_WINDOW.c.window_start + WINDOW - func.now()),
    )
)
#: Windows that started more than :keep ago.
PURGE = delete(RATE_LIMIT_WINDOW).where(
    RATE_LIMIT_WINDOW.c.window_start < func.now() - bindparam("keep", type_=Interval())
)


class RateLimitRepository(Repository):
    """Request counts per caller and window."""

    async def count(self, *, caller: str, window: timedelta) -> tuple[int, float]:
        """Count one request of `caller` in the current window of length `window`; the window's count with this
        request, and the seconds until the window ends."""
        row = (await self.session.execute(COUNT, {"caller": caller, "window": window})).one()
        return int(row[0]), float(row[1])

    async def purge(self, *, keep: timedelta) -> int:
        """Delete the windows that started more than `keep` ago; how many rows went."""
        result = await self.session.execute(PURGE, {"keep": keep})
        return int(getattr(result, "rowcount", 0) or 0)
