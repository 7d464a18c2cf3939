"""The claim event feed: every status change, in an order that never skips one, read from a position onwards.

A status change's row carries the id of the transaction that wrote it (`txid`). Transactions commit in any order,
so the feed only reads rows of transactions older than the oldest one still running (`pg_snapshot_xmin`): no row
can appear later below that line. Rows are read in (txid, claim_id, seq) order, and that triple is the position a
reader resumes after (the SSE `Last-Event-ID`, a subscription's cursor). A transaction left open holds the feed
back until it ends; it never loses an event.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict
from sqlalchemy import BigInteger, Row, Text, func, select, tuple_

from db.errors import InvalidCursorError
from db.models import ClaimRegister, ClaimStatusHistory
from db.records import ClaimScope
from db.repositories.base import Repository
from db.repositories.claims import scoped
from domain.status import ClaimStatus
from domain.subscriptions import ClaimEvent

#: Rows below this transaction id are final: every transaction under it has ended.
_SETTLED = func.pg_snapshot_xmin(func.pg_current_snapshot()).cast(Text).cast(BigInteger)


class FeedPosition(BaseModel):
    """Where a reader of the feed is: after the event of this transaction, claim and seq."""

    model_config = ConfigDict(frozen=True)

    txid: int
    claim_id: str = ""
    seq: int = -1

    def __str__(self) -> str:
        return f"{self.txid}-{self.claim_id}-{self.seq}"

    @classmethod
    def parse(cls, text: str) -> FeedPosition:
        """A position as `str()` wrote it; InvalidCursorError otherwise."""
        txid, _, rest = text.partition("-")
        claim_id, _, seq = rest.rpartition("-")
        try:
            return cls(txid=int(txid), claim_id=claim_id, seq=int(seq))
        except ValueError as error:
            raise InvalidCursorError() from error


class EventRepository(Repository):
    """Reads the feed; writes nothing (status changes are written by the claim repository)."""

    async def head(self) -> FeedPosition:
        """The position from which only events written from now on are read (a new subscription starts here)."""
        txid = (await self.session.execute(select(_SETTLED))).scalar_one()
        return FeedPosition(txid=txid)

    async def after(
        self,
        position: FeedPosition,
        *,
        scope: ClaimScope,
        claim_id: str | None = None,
        statuses: list[ClaimStatus] | None = None,
        limit: int = 100,
    ) -> list[ClaimEvent]:
        """Up to `limit` events after `position`, in feed order, of the claims in `scope` (and of the one claim,
        and only of the statuses, when given)."""
        h = ClaimStatusHistory
        stmt = (
            _EVENT.where(
                tuple_(h.txid, h.claim_id, h.seq) > tuple_(position.txid, position.claim_id, position.seq),
                h.txid < _SETTLED,
            )
            .order_by(h.txid, h.claim_id, h.seq)
            .limit(limit)
        )
        if claim_id is not None:
            stmt = stmt.where(h.claim_id == claim_id)
        if statuses:
            stmt = stmt.where(h.status.in_([status.value for status in statuses]))
        stmt, params = scoped(stmt, scope)
        return [_event(row) for row in await self.session.execute(stmt, params)]

    async def one(self, claim_id: str, seq: int, *, scope: ClaimScope) -> ClaimEvent | None:
        """One event of a claim in `scope`, wherever it stands in the feed (a redelivery)."""
        stmt = _EVENT.where(ClaimStatusHistory.claim_id == claim_id, ClaimStatusHistory.seq == seq)
        stmt, params = scoped(stmt, scope)
        row = (await self.session.execute(stmt, params)).one_or_none()
        return None if row is None else _event(row)


_EVENT = select(
    ClaimStatusHistory.txid,
    ClaimStatusHistory.claim_id,
    ClaimStatusHistory.seq,
    ClaimStatusHistory.status,
    ClaimStatusHistory.reason,
    ClaimStatusHistory.actor,
    ClaimStatusHistory.at,
    ClaimRegister.org_id,
    ClaimRegister.payer_id,
    ClaimRegister.total_charge,
).join(ClaimRegister, ClaimRegister.claim_id == ClaimStatusHistory.claim_id)


def _event(row: Row[*tuple[Any, ...]]) -> ClaimEvent:
    return ClaimEvent(
        position=str(FeedPosition(txid=row.txid, claim_id=row.claim_id, seq=row.seq)),
        claim_id=row.claim_id,
        org_id=row.org_id,
        seq=row.seq,
        status=ClaimStatus(row.status),
        reason=row.reason,
        actor=row.actor,
        at=row.at,
        payer_id=row.payer_id,
        total_charge=row.total_charge,
    )
