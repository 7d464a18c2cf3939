"""The code tables (ICD10Code, CPTCode) and which systems are loaded in full, as domain code sets, cached briefly."""

from __future__ import annotations

import time

from db.records import CodeRow
from db.uow import UnitOfWork
from domain.codes import CodeEntry, CodeSets, CodeSystem, CodeTable

#: The systems the domain knows (a row for another, say an edit table's, is not a code system of claims).
KNOWN_SYSTEMS = frozenset(system.value for system in CodeSystem)


def code_table(rows: list[CodeRow]) -> CodeTable:
    return CodeTable(
        [
            CodeEntry(
                code=row.code,
                description=row.description,
                effective_date=row.effective_date,
                termination_date=row.termination_date,
                billable=row.billable,
            )
            for row in rows
        ]
    )


class CodeSetCache:
    """Code sets change rarely: reload them at most every `ttl_seconds` per worker."""

    def __init__(self, ttl_seconds: float = 30.0) -> None:
        self._ttl = ttl_seconds
        self._loaded_at = 0.0
        self._codes: CodeSets | None = None

    async def get(self, uow: UnitOfWork) -> CodeSets:
        if self._codes is None or time.monotonic() - self._loaded_at > self._ttl:
            icd10 = await uow.reference.icd10_entries()
            cpt = await uow.reference.cpt_entries()
            complete = await uow.reference.complete_code_systems()
            self._codes = CodeSets(
                icd10_overrides=code_table(icd10) if icd10 else None,
                procedures=code_table(cpt) if cpt else None,
                loaded_in_full=frozenset(CodeSystem(system) for system in complete if system in KNOWN_SYSTEMS),
            )
            self._loaded_at = time.monotonic()
        return self._codes

    def invalidate(self) -> None:
        self._codes = None
