"""CodeRepository: search and maintain the ICD10Code and CPTCode tables, import releases, record each load."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import date, datetime
from enum import StrEnum
from typing import Any, cast

from sqlalchemy import func, select, update

from db.models import CodeSystemLoad, CPTCode, ICD10Code
from db.records import CodeRow
from db.repositories.base import Repository
from domain.codes import CodeEntry


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

    async def upsert(self, kind: CodeKind, entries: Sequence[CodeEntry]) -> None:
        """Insert or refresh the codes in one statement: description, billable flag and termination date
        as given, the effective date the earlier of the stored and the given one (re-running is a no-op)."""
        if not entries:
            return
        model = MODELS[kind]
        rows: list[dict[str, Any]] = []
        for entry in entries:
            row: dict[str, Any] = {
                "code": entry.code,
                "description": entry.description,
                "effective_date": entry.effective_date,
                "termination_date": entry.termination_date,
            }
            if kind is CodeKind.ICD10:
                row["billable"] = entry.billable
            rows.append(row)
        statement = self._insert(model).values(rows)
        changes: dict[str, Any] = {
            "description": statement.excluded.description,
            "termination_date": statement.excluded.termination_date,
            "effective_date": func.least(model.__table__.c.effective_date, statement.excluded.effective_date),
            "updated_at": func.now(),
        }
        if kind is CodeKind.ICD10:
            changes["billable"] = statement.excluded.billable
        await self.session.execute(statement.on_conflict_do_update(index_elements=["code"], set_=changes))

    async def billable_icd10(self) -> dict[str, date | None]:
        """The billable ICD-10-CM codes and their termination dates (None: open-ended, a release may retire it)."""
        rows = await self.session.execute(
            select(ICD10Code.code, ICD10Code.termination_date).where(ICD10Code.billable.is_(True))
        )
        return {code: terminated for code, terminated in rows}

    async def retire(self, kind: CodeKind, codes: Collection[str], last_day: date) -> int:
        """Set `last_day` as the last day of service of the codes still open-ended; how many it retired."""
        if not codes:
            return 0
        model = MODELS[kind]
        result = await self.session.execute(
            update(model)
            .where(model.code.in_(list(codes)), model.termination_date.is_(None))
            .values(termination_date=last_day, updated_at=func.now())
            .execution_options(synchronize_session=False)
        )
        return int(getattr(result, "rowcount", 0) or 0)

    async def record_load(
        self, system: str, *, full: bool, source: str, version: str | None, codes: int, at: datetime
    ) -> None:
        """Record a load of `system`; once loaded in full it stays so (a later partial load adds codes)."""
        statement = self._insert(CodeSystemLoad).values(
            system=system, loaded_in_full=full, source=source, version=version, codes=codes, loaded_at=at
        )
        await self.session.execute(
            statement.on_conflict_do_update(
                index_elements=["system"],
                set_={
                    "loaded_in_full": CodeSystemLoad.__table__.c.loaded_in_full | statement.excluded.loaded_in_full,
                    "source": statement.excluded.source,
                    "version": statement.excluded.version,
                    "codes": statement.excluded.codes,
                    "loaded_at": statement.excluded.loaded_at,
                },
            )
        )

    async def load_of(self, system: str) -> CodeSystemLoad | None:
        return await self.session.get(CodeSystemLoad, system, populate_existing=True)
