"""What every repository shares: the session it works in, Core inserts and prebuilt writes."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import Executable
from sqlalchemy.dialects.postgresql import Insert, insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession


class Repository:
    """Works inside the caller's transaction: executes and flushes, never commits."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    def _insert(self, table: Any) -> Insert:
        """A Core INSERT on the mapped class's table: the ORM's bulk-insert bookkeeping costs more than the
        statement itself on our hot paths (intake, status records), and nothing here needs it."""
        return insert(getattr(table, "__table__", table))

    async def _wrote(self, write: Executable, params: Mapping[str, Any]) -> bool:
        """Run a prebuilt write that returns a row only when it writes; whether it wrote."""
        return (await self.session.execute(write, params)).scalar_one_or_none() is not None


def violated_constraint(error: IntegrityError) -> str | None:
    """The name of the constraint PostgreSQL reported broken, if it named one."""
    diag = getattr(error.orig, "diag", None)
    name = getattr(diag, "constraint_name", None)
    return name if isinstance(name, str) else None
