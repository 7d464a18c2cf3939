"""AuditRepository: append to and read the append-only audit log."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.dml import ReturningInsert

from db.base import utcnow
from db.dialect import insert_for
from db.models import AuditLog
from db.records import AuditEntry
from db.repositories.base import Repository
from db.statements import DIALECTS, for_dialect, param, table_of

AUDIT_LOG = table_of(AuditLog)


def append_statement(dialect_name: str) -> ReturningInsert[Any]:
    """INSERT one audit row unless its event key exists, RETURNING its id. Parameters: event_key, claim (the
    claim id: the name the claim writes' vocabulary gives it, see claim_writes.py), actor, action, at, details
    and now (its created_at, which the model's Python-side default would set)."""
    columns = AUDIT_LOG.c
    return (
        insert_for(dialect_name, AUDIT_LOG)
        .values(
            event_key=param(columns.event_key),
            claim_id=param(columns.claim_id, "claim"),
            actor=param(columns.actor),
            action=param(columns.action),
            at=param(columns.at),
            details=param(columns.details),
            created_at=param(columns.created_at, "now"),
        )
        .on_conflict_do_nothing(index_elements=[columns.event_key])
        .returning(columns.id)
    )


#: The append, built once per dialect: a call pays for neither building it nor its cache key.
APPEND: dict[str, ReturningInsert[Any]] = {name: append_statement(name) for name in DIALECTS}


class AuditRepository(Repository):
    """The audit log. Rows are never changed: the database refuses UPDATE and DELETE.

    Callers must keep protected health information out of `details`: ids, statuses,
    codes and amounts only — never names, dates of birth, member ids or addresses.
    """

    def __init__(self, session: AsyncSession) -> None:
        super().__init__(session)
        self._append = for_dialect(APPEND, session)

    async def append(
        self, *, claim_id: str | None, actor: str, action: str, at: datetime, details: dict[str, object], event_key: str
    ) -> bool:
        """Append one entry unless one with this `event_key` exists; return whether it was written."""
        params = {
            "event_key": event_key,
            "claim": claim_id,
            "actor": actor,
            "action": action,
            "at": at,
            "details": details,
            "now": utcnow(),
        }
        return (await self.session.execute(self._append, params)).scalar_one_or_none() is not None

    async def list_for_claim(self, claim_id: str) -> list[AuditEntry]:
        """A claim's audit entries, oldest first."""
        rows = await self.session.scalars(select(AuditLog).where(AuditLog.claim_id == claim_id).order_by(AuditLog.id))
        return [
            AuditEntry(
                id=row.id, claim_id=row.claim_id, actor=row.actor, action=row.action, at=row.at, details=row.details
            )
            for row in rows
        ]
