"""What a validation finds: one issue per failing edit, with its rule id and field path."""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"


class ValidationIssue(BaseModel):
    """One failing edit: which rule, which field, what to do about it."""

    model_config = ConfigDict(frozen=True)

    rule_id: str
    path: str
    message: str
    severity: Severity = Severity.ERROR


class ValidationReport(BaseModel):
    """Every issue a claim has, errors and warnings apart."""

    model_config = ConfigDict(frozen=True)

    issues: list[ValidationIssue] = []

    @property
    def errors(self) -> list[ValidationIssue]:
        return [i for i in self.issues if i.severity is Severity.ERROR]

    @property
    def warnings(self) -> list[ValidationIssue]:
        return [i for i in self.issues if i.severity is Severity.WARNING]

    @property
    def valid(self) -> bool:
        return not self.errors
