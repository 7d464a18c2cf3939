"""The rule table's row type and what every rule sees: the claim, today and the code sets."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date
from functools import cached_property

from domain.claim import Claim
from domain.codes import CodeSets
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
