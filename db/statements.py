"""Building blocks for statements built once at import: a model's Table and bound parameters typed like columns."""

from __future__ import annotations

from typing import Any

from sqlalchemy import BindParameter, Column, Table, bindparam
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.types import TypeEngine

from db.base import Base

#: A JSON document parameter whose Python None is SQL NULL (not JSON `null`), for COALESCE(:param, column).
OPTIONAL_JSON = JSONB(none_as_null=True)


def table_of(model: type[Base]) -> Table:
    """The Core Table a mapped class maps onto (statements on it skip the ORM's per-call bookkeeping)."""
    table = model.__table__
    if not isinstance(table, Table):
        raise TypeError(f"{model.__name__} is not mapped onto a single table")
    return table


def param(column: Column[Any], name: str | None = None, type_: TypeEngine[Any] | None = None) -> BindParameter[Any]:
    """A bound parameter typed like `column`, named after it unless `name` is given."""
    return bindparam(name or column.key, type_=type_ if type_ is not None else column.type)
