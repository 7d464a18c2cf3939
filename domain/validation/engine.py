"""The edit engine: run every rule in the table over a claim and report every failure at once."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from domain.claim import Claim
from domain.codes import CodeSets
from domain.validation.issues import ValidationReport
from domain.validation.registry import Rule, RuleContext, render
from domain.validation.rules import RULES

_NO_CODE_SETS = CodeSets()


def validate_claim(
    claim: Claim,
    *,
    today: date,
    codes: CodeSets | None = None,
    rules: Iterable[Rule] = RULES,
) -> ValidationReport:
    """Run the rules over a parsed claim; every issue, errors and warnings, in rule-table order.

    `codes` carries the project's code tables; without it the packaged ICD-10-CM set alone is
    used and procedure codes are checked for format only. Pure: no I/O, `today` is passed in.
    """
    ctx = RuleContext(claim, today=today, codes=codes or _NO_CODE_SETS)
    issues = [
        render(rule.id, rule.severity, path, params, claim, rule.message)
        for rule in rules
        for path, params in rule.check(ctx)
    ]
    return ValidationReport(issues=issues)
