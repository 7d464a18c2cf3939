"""CodeRepository: search and maintain the ICD10Code and CPTCode tables."""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Any, cast

from sqlalchemy import select

from db.models import CPTCode, ICD10Code
from db.records import CodeRow
from db.repositories.base import Repository


class CodeKind(StrEnum):
    """Which code table."""

    ICD10 = "icd10"
    CPT = "cpt"


MODELS: dict[CodeKind, type[ICD10Code] | type[CPTCode]] = {CodeKind.ICD10: ICD10Code, CodeKind.CPT: CPTCode}


def to_row(row: ICD10Code | CPTCode) -> CodeRow:
    return CodeRow(
        code=row.code,
        description=row.description,
        effective_date=row.effective_date,
        termination_date=row.termination_date,
        billable=getattr(row, "billable", True),
    )


class CodeRepository(Repository):
    """Reads page by code; writes flush and leave the commit to the unit of work."""

    async def search(
        self, kind: CodeKind, *, prefix: str | None, words: list[str], limit: int, after: str | None
    ) -> list[CodeRow]:
        """Codes starting with `prefix` whose description holds every word, in code order after `after`."""
        model = MODELS[kind]
        query = select(model).order_by(model.code).limit(limit)
        if prefix:
            query = query.where(model.code.startswith(prefix, autoescape=True))
        for word in words:
            query = query.where(model.description.icontains(word, autoescape=True))
        if after:
            query = query.where(model.code > after)
        return [to_row(cast(ICD10Code | CPTCode, row)) for row in await self.session.scalars(query)]

    async def get(self, kind: CodeKind, code: str) -> CodeRow | None:
        row = await self.session.get(MODELS[kind], code, populate_existing=True)
        return None if row is None else to_row(cast(ICD10Code | CPTCode, row))

    async def create(self, kind: CodeKind, entry: CodeRow) -> bool:
        """Insert the code; False (and nothing written) when it exists already."""
        values: dict[str, Any] = {
            "code": entry.code,
            "description": entry.description,
            "effective_date": entry.effective_date,
            "termination_date": entry.termination_date,
        }
        if kind is CodeKind.ICD10:
            values["billable"] = entry.billable
        model = MODELS[kind]
        result = await self.session.execute(
            self._insert(model).values(**values).on_conflict_do_nothing(index_elements=["code"]).returning(model.code)
        )
        return result.scalar_one_or_none() is not None

    async def update(self, kind: CodeKind, code: str, changes: dict[str, str | date | bool | None]) -> CodeRow | None:
        """Apply the given fields; None when there is no such code."""
        row = await self.session.get(MODELS[kind], code, with_for_update=True)
        if row is None:
            return None
        for field, value in changes.items():
            setattr(row, field, value)
        await self.session.flush()
        return to_row(cast(ICD10Code | CPTCode, row))
