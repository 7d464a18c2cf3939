"""AuditRepository: append to and read the append-only audit log."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert

from db.base import utcnow
from db.models import AuditLog
from db.records import AuditEntry
from db.repositories.base import Repository
from db.statements import param, table_of

AUDIT_LOG = table_of(AuditLog)

#: INSERT one audit row unless its event key exists, RETURNING its id; built once, so an append pays for neither
#: building it nor its cache key. Parameters: the columns' names, and now (the created_at the model would set).
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
    """The audit log. Rows are never changed: the database refuses UPDATE and DELETE.

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
