"""The rule table's row type, what every rule sees (the claim, today, the code sets) and what its message sees."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from functools import cached_property

from pydantic import BaseModel

from domain.claim import Claim
from domain.codes import PROCEDURE_CODE, CodeSets, CodeStatus, CodeSystem, icd10_package_status
from domain.validation.issues import Severity, ValidationFinding, ValidationIssue

#: At most this many diagnosis codes on a professional claim; pointers run 1..12.
MAX_DIAGNOSES = 12

#: What a message needs beyond the claim: counts, indices, states, dates of the code sets, ids of other
#: claims. Never a value copied from the claim: the message reads those by the finding's path.
Params = dict[str, str]
#: What a check reports: the field path (request-body terms) and the message's parameters. The rule adds
#: its id and severity.
Finding = tuple[str, Params]

_STEP = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)|\[(\d+)\]")


class RuleContext:
    """One claim under validation, with the derived facts several rules share, computed once."""

    def __init__(self, claim: Claim, *, today: date, codes: CodeSets) -> None:
        self.claim = claim
        self.today = today
        self.codes = codes

    @cached_property
    def first_index(self) -> dict[str, int]:
        """Each diagnosis code and the index of its first listing."""
        first: dict[str, int] = {}
        for i, code in enumerate(self.claim.diagnosis_codes):
            first.setdefault(code, i)
        return first

    def is_repeat(self, i: int) -> bool:
        """Whether diagnosis_codes[i] repeats an earlier listing (the duplicate rule owns it)."""
        return self.first_index[self.claim.diagnosis_codes[i]] != i

    @cached_property
    def pointing_lines(self) -> list[list[int]]:
        """For each diagnosis (0-based), the indices of the lines whose valid pointers name it."""
        usable = min(len(self.claim.diagnosis_codes), MAX_DIAGNOSES)
        pointing: list[list[int]] = [[] for _ in self.claim.diagnosis_codes]
        for li, line in enumerate(self.claim.lines):
            for pointer in line.diagnosis_pointers:
                if 1 <= pointer <= usable and (not pointing[pointer - 1] or pointing[pointer - 1][-1] != li):
                    pointing[pointer - 1].append(li)
        return pointing

    @cached_property
    def diagnosis_status(self) -> list[tuple[CodeStatus, int | None]]:
        """For each diagnosis, the code sets' verdict and, for a dated failure, the line it fails on.

        A code the overrides list is judged on the service date of every line that points at
        it (every line when none does); any other code by the packaged set, on any date, unless
        ICD-10-CM releases were loaded in full: then the table is the code set, and a code it
        does not list does not exist.
        """
        overrides = self.codes.icd10_overrides
        table_is_complete = overrides is not None and self.codes.complete(CodeSystem.ICD10CM)
        verdicts: list[tuple[CodeStatus, int | None]] = []
        for i, code in enumerate(self.claim.diagnosis_codes):
            if overrides is None or code not in overrides:
                verdicts.append((CodeStatus.UNKNOWN if table_is_complete else icd10_package_status(code), None))
                continue
            lines = self.pointing_lines[i] or range(len(self.claim.lines))
            first_line_on: dict[date, int] = {}
            for li in lines:
                first_line_on.setdefault(self.claim.lines[li].service_date, li)
            verdict: tuple[CodeStatus, int | None] = (CodeStatus.ACTIVE, None)
            for on, li in first_line_on.items():
                status = overrides.status(code, on)
                if status is CodeStatus.NOT_BILLABLE:
                    verdict = (status, li)
                    break
                if status is not CodeStatus.ACTIVE and verdict[0] is CodeStatus.ACTIVE:
                    verdict = (status, li)
            verdicts.append(verdict)
        return verdicts

    @cached_property
    def procedure_status(self) -> list[CodeStatus | None]:
        """For each line, the procedure table's verdict on its code and date (None: no table, or malformed)."""
        table = self.codes.procedures
        if table is None:
            return [None] * len(self.claim.lines)
        seen: dict[tuple[str, date], CodeStatus] = {}
        verdicts: list[CodeStatus | None] = []
        for line in self.claim.lines:
            code, on = line.procedure_code, line.service_date
            if PROCEDURE_CODE.fullmatch(code) is None:
                verdicts.append(None)
                continue
            status = seen.get((code, on))
            if status is None:
                status = seen[(code, on)] = table.status(code, on)
            verdicts.append(status)
        return verdicts

    @cached_property
    def dob_in_future(self) -> bool:
        return self.claim.patient.date_of_birth > self.today


Check = Callable[[RuleContext], Iterable[Finding]]


def value_at(claim: Claim, path: str) -> object:
    """The claim's value at a reported path (`lines[0].modifiers[1]`); None where the path leads nowhere."""
    value: object = claim
    for name, index in _STEP.findall(path):
        if name:
            value = getattr(value, name, None) if isinstance(value, BaseModel) else None
        elif isinstance(value, list) and int(index) < len(value):
            value = value[int(index)]
        else:
            value = None
        if value is None:
            return None
    return value


@dataclass(frozen=True, slots=True)
class MessageContext:
    """What a rule's message sees when a finding is shown: the claim, the finding's path and its parameters."""

    claim: Claim
    path: str
    params: Mapping[str, str]

    @property
    def value(self) -> object:
        """The claim's value at the finding's path."""
        return value_at(self.claim, self.path)

    @property
    def text(self) -> str:
        """That value as the message names it."""
        value = self.value
        return "(empty)" if value is None or value == "" else str(value)

    def at(self, path: str) -> object:
        return value_at(self.claim, path)


#: A rule's message: what is wrong and what to do, from the claim and the finding.
Explain = Callable[[MessageContext], str]


def render(
    rule_id: str, severity: Severity, path: str, params: Params, claim: Claim, explain: Explain
) -> ValidationIssue:
    """A finding with its message."""
    message = explain(MessageContext(claim, path, params))
    return ValidationIssue(rule_id=rule_id, path=path, message=message, severity=severity, params=params)


def describe_with(finding: ValidationFinding, claim: Claim, explain: Explain) -> ValidationIssue:
    """A stored finding with its message, rendered now from the claim."""
    return render(finding.rule_id, finding.severity, finding.path, dict(finding.params), claim, explain)


_INDEX = re.compile(r"\[\d+\]")


@dataclass(frozen=True, slots=True)
class Rule:
    """One row of the rule table.

    `owns` is the field the rule judges, with `[]` for any index (`lines[].charge`) and a
    leading `*` for any parent (`*.npi`); every path the rule reports falls under it.
    `summary` is the one-line catalogue description; `message` says what is wrong and what to do,
    rendered when a finding is shown.
    """

    id: str
    severity: Severity
    owns: str
    summary: str
    check: Check = field(repr=False)
    message: Explain = field(repr=False)

    def owns_path(self, path: str) -> bool:
        """Whether a reported path is this rule's field (indices ignored)."""
        general = _INDEX.sub("[]", path)
        if self.owns.startswith("*"):
            return general.endswith(self.owns[1:])
        return general == self.owns or general.startswith((f"{self.owns}[", f"{self.owns}."))
