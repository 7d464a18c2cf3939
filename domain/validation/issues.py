"""What a validation finds: one finding per failing edit (rule id, field path, parameters) and its message."""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"


class ValidationFinding(BaseModel):
    """One failing edit as the workflow and the claim's record keep it: structured, no sentence.

    `params` holds what the message needs beyond the claim itself — counts, line indices, states,
    code-set dates, another claim's id — never a value copied from the claim (a code, a name, a
    date, an id): the message reads those from the claim, by `path`, when it is shown
    (domain/validation/messages.py). So a workflow history says which rule failed on which
    field, and nothing about the patient.
    """

    model_config = ConfigDict(frozen=True)

    rule_id: str
    path: str
    severity: Severity = Severity.ERROR
    params: dict[str, str] = {}


class ValidationIssue(BaseModel):
    """A finding with its message, as the API shows it: which rule, which field, what to do about it."""

    model_config = ConfigDict(frozen=True)

    rule_id: str
    path: str
    message: str
    severity: Severity = Severity.ERROR
    params: dict[str, str] = {}

    def finding(self) -> ValidationFinding:
        """The structured part alone: what may cross into Temporal or be stored."""
        return ValidationFinding(rule_id=self.rule_id, path=self.path, severity=self.severity, params=self.params)


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
