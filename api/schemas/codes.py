"""Code-table shapes: one code, a page of codes, and the bodies that create or change one."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Self

from pydantic import BaseModel, ConfigDict, StringConstraints, model_validator

Description = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=255)]


class CodeRead(BaseModel):
    code: str
    description: str
    effective_date: date
    termination_date: date | None
    billable: bool


class CodePage(BaseModel):
    data: list[CodeRead]
    count: int
    next_cursor: str | None


class CodeCreate(BaseModel):
    """A new code. ICD-10-CM codes are stored in canonical form (E11.9); CPT/HCPCS upper case."""

    model_config = ConfigDict(extra="forbid")

    code: Annotated[str, StringConstraints(strip_whitespace=True, min_length=3, max_length=8)]
    description: Description
    effective_date: date
    termination_date: date | None = None
    billable: bool = True

    @model_validator(mode="after")
    def _window(self) -> Self:
        if self.termination_date is not None and self.termination_date < self.effective_date:
            raise ValueError(
                "termination_date is before effective_date; a code is billable from the first to the second"
            )
        return self


class CodeUpdate(BaseModel):
    """Fields to change; only those sent are changed (termination_date: null reopens a code)."""

    model_config = ConfigDict(extra="forbid")

    description: Description | None = None
    effective_date: date | None = None
    termination_date: date | None = None
    billable: bool | None = None
