"""AuditRepository: append to and read the append-only, hash-chained audit log."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from datetime import datetime

from sqlalchemy import Text, cast, select, text
from sqlalchemy.dialects.postgresql import insert

from db.audit_chain import ChainRow
from db.base import utcnow
from db.models import AuditChainHead, AuditLog
from db.records import AuditEntry
from db.repositories.base import Repository
from db.statements import param, table_of

AUDIT_LOG = table_of(AuditLog)

#: INSERT one audit row unless its event key exists, RETURNING its id; built once, so an append pays for neither
#: building it nor its cache key. Parameters: the columns' names, and now (the created_at the model would set).
#: The database's trigger chains the row (id, prev_hash, row_hash) and skips it when its event key exists.
APPEND = (
    insert(AUDIT_LOG)
    .values(
        event_key=param(AUDIT_LOG.c.event_key),
        claim_id=param(AUDIT_LOG.c.claim_id),
        actor=param(AUDIT_LOG.c.actor),
        action=param(AUDIT_LOG.c.action),
        at=param(AUDIT_LOG.c.at),
        details=param(AUDIT_LOG.c.details),
        created_at=param(AUDIT_LOG.c.created_at, "now"),
    )
    .on_conflict_do_nothing(index_elements=[AUDIT_LOG.c.event_key])
    .returning(AUDIT_LOG.c.id)
)


class AuditRepository(Repository):
    """The audit log. Rows are never changed: the database refuses UPDATE, DELETE and TRUNCATE.

    Callers must keep protected health information out of `details`: ids, statuses,
    codes and amounts only — never names, dates of birth, member ids or addresses.
    """

    async def append(
        self, *, claim_id: str | None, actor: str, action: str, at: datetime, details: dict[str, object], event_key: str
    ) -> bool:
        """Append one entry unless one with this `event_key` exists; return whether it was written."""
        params = {
            "event_key": event_key,
            "claim_id": claim_id,
            "actor": actor,
            "action": action,
            "at": at,
            "details": details,
            "now": utcnow(),
        }
        return await self._wrote(APPEND, params)

    async def list_for_claim(self, claim_id: str) -> list[AuditEntry]:
        """A claim's audit entries, oldest first."""
        rows = await self.session.scalars(select(AuditLog).where(AuditLog.claim_id == claim_id).order_by(AuditLog.id))
        return [
            AuditEntry(
                id=row.id, claim_id=row.claim_id, actor=row.actor, action=row.action, at=row.at, details=row.details
            )
            for row in rows
        ]

    async def read_one_snapshot(self) -> None:
        """Make the rest of this transaction read one snapshot (REPEATABLE READ, read only), so the head and the rows
        it reads agree; call it before any other statement of the transaction."""
        await self.session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
        await self.session.execute(text("SET TRANSACTION READ ONLY"))

    async def chain_head(self) -> tuple[int, str]:
        """The chain's last id and hash, as the append trigger recorded them."""
        head = (await self.session.execute(select(AuditChainHead.last_id, AuditChainHead.last_hash))).one()
        return head.last_id, head.last_hash

    async def chain_rows(self, batch: int = 1000) -> AsyncGenerator[ChainRow, None]:
        """Every row in id order, streamed from a server-side cursor `batch` rows at a time (never all at once)."""
        query = select(
            AuditLog.id,
            AuditLog.event_key,
            AuditLog.claim_id,
            AuditLog.actor,
            AuditLog.action,
            AuditLog.at,
            cast(AuditLog.details, Text).label("details_text"),
            AuditLog.created_at,
            AuditLog.prev_hash,
            AuditLog.row_hash,
        ).order_by(AuditLog.id)
        result = await self.session.stream(query.execution_options(yield_per=batch))
        try:
            async for row in result:
                yield ChainRow(**row._asdict())
        finally:
            await result.close()  # the server-side cursor, when the caller stops early
