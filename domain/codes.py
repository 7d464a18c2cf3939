"""Code sets: canonical code spelling, the code systems, dated code tables and the packaged ICD-10-CM lookups."""

from __future__ import annotations

import functools
import re
import warnings
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from types import ModuleType
from typing import Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from domain.edit_tables import EditTables

#: An ICD-10-CM code as the code set spells it: a letter, a digit, an alphanumeric,
#: then optionally a dot and 1 to 4 alphanumerics (canonical form, upper case).
ICD10_CODE = re.compile(r"[A-Z][0-9][0-9A-Z](?:\.[0-9A-Z]{1,4})?")
#: A procedure code: CPT is 5 digits (Category I) or 4 digits + F (II), T (III) or U (PLA);
#: HCPCS Level II is a letter + 4 digits. Upper case.
PROCEDURE_CODE = re.compile(r"[0-9]{4}[0-9FTU]|[A-Z][0-9]{4}")


def canonical_icd10(code: str) -> str:
    """Spell an ICD-10-CM code one way: upper case, dot after the 3rd character when longer.

    Purely syntactic and total: `e119`, `E11.9` and ` E11.9 ` all become `E11.9`; a string
    that is no code at all comes back cleaned but otherwise unchanged, for a rule to refuse.
    """
    bare = code.strip().upper().replace(".", "")
    return f"{bare[:3]}.{bare[3:]}" if len(bare) > 3 else bare


def canonical_procedure(code: str) -> str:
    """Spell a CPT/HCPCS code one way: upper case, no surrounding space (`g0483 ` becomes `G0483`).

    The one rule the claim model and the code-table service share; like `canonical_icd10` it is
    total, so a string that is no code comes back cleaned for the format rule to refuse.
    """
    return code.strip().upper()


class CodeSystem(StrEnum):
    """A code system the engine can load: HCPCS Level II, CPT (licensed) and ICD-10-CM."""

    HCPCS = "hcpcs"
    CPT = "cpt"
    ICD10CM = "icd10cm"


def procedure_system(code: str) -> CodeSystem:
    """Which system a (well-formed) procedure code belongs to: a letter and 4 digits is HCPCS Level II, else CPT."""
    return CodeSystem.HCPCS if code[:1].isalpha() else CodeSystem.CPT


def table_key(code: str) -> str:
    """The lookup key of a code in a `CodeTable`: upper case, no dot, no surrounding space."""
    return code.strip().upper().replace(".", "")


class CodeStatus(StrEnum):
    """What a code set says about one code on one date."""

    ACTIVE = "active"
    UNKNOWN = "unknown"
    NOT_BILLABLE = "not_billable"
    NOT_YET_EFFECTIVE = "not_yet_effective"
    TERMINATED = "terminated"


class CodeEntry(BaseModel):
    """One code in a dated code table.

    `effective_date` is the first and `termination_date` the last day of service the code
    may be billed for (both inclusive; None means open-ended).
    """

    model_config = ConfigDict(frozen=True)

    code: str = Field(min_length=1, max_length=30)
    description: str = ""
    effective_date: date | None = None
    termination_date: date | None = None
    billable: bool = True

    @model_validator(mode="after")
    def _window_is_ordered(self) -> Self:
        if self.effective_date and self.termination_date and self.termination_date < self.effective_date:
            raise ValueError(f"code {self.code}: termination_date is before effective_date")
        return self

    def active_on(self, on: date) -> bool:
        """Whether a service on this date falls inside the code's window."""
        if self.effective_date is not None and on < self.effective_date:
            return False
        return self.termination_date is None or on <= self.termination_date


class CodeTable:
    """An in-memory code table with O(1) lookups; a code may have several dated entries."""

    __slots__ = ("_entries",)

    def __init__(self, entries: Iterable[CodeEntry] = ()) -> None:
        grouped: dict[str, list[CodeEntry]] = {}
        for entry in entries:
            grouped.setdefault(table_key(entry.code), []).append(entry)
        self._entries: dict[str, tuple[CodeEntry, ...]] = {key: tuple(group) for key, group in grouped.items()}

    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, code: object) -> bool:
        return isinstance(code, str) and table_key(code) in self._entries

    def __iter__(self) -> Iterator[CodeEntry]:
        for group in self._entries.values():
            yield from group

    def entries(self, code: str) -> tuple[CodeEntry, ...]:
        """Every entry for the code (empty when the table does not know it)."""
        return self._entries.get(table_key(code), ())

    def status(self, code: str, on: date) -> CodeStatus:
        """Whether the code may be billed for a service on `on`, and if not, why."""
        entries = self._entries.get(table_key(code))
        if not entries:
            return CodeStatus.UNKNOWN
        for entry in entries:
            if entry.active_on(on):
                return CodeStatus.ACTIVE if entry.billable else CodeStatus.NOT_BILLABLE
        if all(entry.effective_date is not None and on < entry.effective_date for entry in entries):
            return CodeStatus.NOT_YET_EFFECTIVE
        return CodeStatus.TERMINATED


@dataclass(frozen=True, slots=True)
class CodeSets:
    """The code tables a validation runs against, loaded once by whoever owns the database.

    `icd10_overrides` overrides or extends the packaged ICD-10-CM set: a code it lists is
    judged by its entries alone (window and billable flag); other codes by the package.
    `procedures` is the CPT/HCPCS table; when None, procedure codes are checked for format only.
    `loaded_in_full` names the systems whose complete release is in the tables: a code such a
    system does not list is an error; for any other system, only a warning (the table is partial).
    """

    icd10_overrides: CodeTable | None = None
    procedures: CodeTable | None = None
    loaded_in_full: frozenset[CodeSystem] = frozenset()
    #: The CMS scrubber tables (NCCI PTP, MUE, MCE); when None, those edits are not applied.
    edits: EditTables | None = None

    def complete(self, system: CodeSystem) -> bool:
        """Whether the tables hold the whole of `system`, so that a code missing from them does not exist."""
        return system in self.loaded_in_full


# --- the packaged ICD-10-CM code set (simple-icd-10-cm) -------------------------------------
#
# Importing the package parses its XML (about 3 s), so it is imported on first use, once; each
# process loads it at start, so no claim waits for it.


@functools.cache
def load_icd10() -> ModuleType:
    """Import the packaged ICD-10-CM code set (slow, once per process) and return the module."""
    with warnings.catch_warnings():  # the package still reads its data with deprecated importlib calls
        warnings.simplefilter("ignore", DeprecationWarning)
        import simple_icd_10_cm

    module: ModuleType = simple_icd_10_cm
    return module


@functools.lru_cache(maxsize=32768)
def icd10_package_status(code: str) -> CodeStatus:
    """ACTIVE for a billable (leaf) code, NOT_BILLABLE for a category or header, else UNKNOWN.

    The package carries one release of the code set and no dates, so a code it knows is
    taken as valid on every date; dated exceptions come from `CodeSets.icd10_overrides`.
    """
    canonical = canonical_icd10(code)
    if not ICD10_CODE.fullmatch(canonical):
        return CodeStatus.UNKNOWN
    icd = load_icd10()
    if not icd.is_valid_item(canonical):
        return CodeStatus.UNKNOWN
    return CodeStatus.ACTIVE if icd.is_leaf(canonical) else CodeStatus.NOT_BILLABLE


@functools.lru_cache(maxsize=4096)
def icd10_children(code: str) -> tuple[str, ...]:
    """The codes directly under a category or subcategory in the packaged set (for hints)."""
    canonical = canonical_icd10(code)
    if icd10_package_status(canonical) is CodeStatus.UNKNOWN:
        return ()
    children: list[str] = load_icd10().get_children(canonical)
    return tuple(children)


def icd10_status(code: str, on: date, overrides: CodeTable | None = None) -> CodeStatus:
    """Whether an ICD-10-CM code may be billed for a service on `on`: overrides first, then the package."""
    if overrides is not None and code in overrides:
        return overrides.status(code, on)
    return icd10_package_status(code)
