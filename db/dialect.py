"""Dialect-aware INSERT ... ON CONFLICT for PostgreSQL and SQLite."""

from __future__ import annotations

from typing import Any

from sqlalchemy.dialects import postgresql, sqlite

#: The INSERT statement of either dialect; both offer on_conflict_do_nothing/do_update and excluded.
Insert = postgresql.Insert | sqlite.Insert


def insert_for(dialect_name: str, table: Any) -> Insert:
    """An INSERT for `table` (a mapped class or Table) that can say ON CONFLICT on this dialect."""
    match dialect_name:
        case "postgresql":
            return postgresql.insert(table)
        case "sqlite":
            return sqlite.insert(table)
        case _:
            raise NotImplementedError(f"claimflow runs on PostgreSQL or SQLite, not {dialect_name}")
