"""What every repository shares: the session it works in and dialect-aware inserts."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from db.dialect import Insert, insert_for


class Repository:
    """Works inside the caller's transaction: executes and flushes, never commits."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    def _insert(self, table: Any) -> Insert:
        """A Core INSERT on the mapped class's table: the ORM's bulk-insert bookkeeping costs more than the
        statement itself on our hot paths (intake, status records), and nothing here needs it."""
        return insert_for(self.session.get_bind().dialect.name, getattr(table, "__table__", table))
