"""The rule table's row type and what every rule sees: the claim, today and the code sets."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date
from functools import cached_property

from domain.claim import Claim
from domain.codes import PROCEDURE_CODE, CodeSets, CodeStatus, icd10_package_status
from domain.validation.issues import Severity

#: At most this many diagnosis codes on a professional claim; pointers run 1..12.
MAX_DIAGNOSES = 12

#: What a check reports: the field path (request-body terms) and a message that says
#: what is wrong and what to do. The rule adds its id and severity.
Finding = tuple[str, str]


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
        it (every line when none does); any other code by the packaged set, on any date.
        """
        overrides = self.codes.icd10_overrides
        verdicts: list[tuple[CodeStatus, int | None]] = []
        for i, code in enumerate(self.claim.diagnosis_codes):
            if overrides is None or code not in overrides:
                verdicts.append((icd10_package_status(code), None))
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

_INDEX = re.compile(r"\[\d+\]")


@dataclass(frozen=True, slots=True)
class Rule:
    """One row of the rule table.

    `owns` is the field the rule judges, with `[]` for any index (`lines[].charge`) and a
    leading `*` for any parent (`*.npi`); every path the rule reports falls under it.
    `summary` is the one-line catalogue description.
    """

    id: str
    severity: Severity
    owns: str
    summary: str
    check: Check = field(repr=False)

    def owns_path(self, path: str) -> bool:
        """Whether a reported path is this rule's field (indices ignored)."""
        general = _INDEX.sub("[]", path)
        if self.owns.startswith("*"):
            return general.endswith(self.owns[1:])
        return general == self.owns or general.startswith((f"{self.owns}[", f"{self.owns}."))
