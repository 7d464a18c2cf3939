"""Building blocks for statements built once at import: a model's Table and bound parameters typed like columns."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from sqlalchemy import JSON, BindParameter, Column, Table, bindparam
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.types import TypeEngine

from db.base import Base

#: The dialects claimflow runs on; prebuilt statements that differ by dialect are built for each.
DIALECTS = ("postgresql", "sqlite")

T = TypeVar("T")

#: A JSON document parameter whose Python None is SQL NULL (not JSON `null`), for COALESCE(:param, column).
OPTIONAL_JSON: TypeEngine[Any] = JSON(none_as_null=True).with_variant(JSONB(none_as_null=True), "postgresql")


def table_of(model: type[Base]) -> Table:
    """The Core Table a mapped class maps onto (statements on it skip the ORM's per-call bookkeeping)."""
    table = model.__table__
    if not isinstance(table, Table):
        raise TypeError(f"{model.__name__} is not mapped onto a single table")
    return table


def param(column: Column[Any], name: str | None = None, type_: TypeEngine[Any] | None = None) -> BindParameter[Any]:
    """A bound parameter typed like `column`, named after it unless `name` is given."""
    return bindparam(name or column.key, type_=type_ if type_ is not None else column.type)


def dialect_name(session: AsyncSession) -> str:
    """The name of the dialect `session` talks to: "postgresql" or "sqlite"."""
    return session.get_bind().dialect.name


def for_dialect(built: Mapping[str, T], session: AsyncSession) -> T:
    """What was built for the dialect of `session`; NotImplementedError on a dialect claimflow does not run on."""
    name = dialect_name(session)
    if name not in built:
        raise NotImplementedError(f"claimflow runs on PostgreSQL or SQLite, not {name}")
    return built[name]
