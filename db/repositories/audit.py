"""AuditRepository: append to and read the append-only audit log."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from db.models import AuditLog
from db.records import AuditEntry
from db.repositories.base import Repository


class AuditRepository(Repository):
    """The audit log. Rows are never changed: the database refuses UPDATE and DELETE.

    Callers must keep protected health information out of `details`: ids, statuses,
    codes and amounts only — never names, dates of birth, member ids or addresses.
    """

    async def append(
        self, *, claim_id: str | None, actor: str, action: str, at: datetime, details: dict[str, object], event_key: str
    ) -> bool:
        """Append one entry unless one with this `event_key` exists; return whether it was written."""
        stmt = (
            self._insert(AuditLog)
            .values(event_key=event_key, claim_id=claim_id, actor=actor, action=action, at=at, details=details)
            .on_conflict_do_nothing(index_elements=[AuditLog.event_key])
            .returning(AuditLog.id)
        )
        return (await self.session.execute(stmt)).scalar_one_or_none() is not None

    async def list_for_claim(self, claim_id: str) -> list[AuditEntry]:
        """A claim's audit entries, oldest first."""
        rows = await self.session.scalars(select(AuditLog).where(AuditLog.claim_id == claim_id).order_by(AuditLog.id))
        return [
            AuditEntry(
                id=row.id, claim_id=row.claim_id, actor=row.actor, action=row.action, at=row.at, details=row.details
            )
            for row in rows
        ]
