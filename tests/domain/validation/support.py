"""Test helpers: run the engine and read its findings as (rule id, path) pairs."""

from __future__ import annotations

from datetime import date

from domain.claim import Claim
from domain.codes import CodeSets
from domain.validation import ValidationReport, validate_claim


def report(claim: Claim, *, today: date | None = None, codes: CodeSets | None = None) -> ValidationReport:
    return validate_claim(claim, today=today or date.today(), codes=codes)


def findings(claim: Claim, *, today: date | None = None, codes: CodeSets | None = None) -> set[tuple[str, str]]:
    """Every (rule id, path) the engine reports, errors and warnings alike."""
    return {(issue.rule_id, issue.path) for issue in report(claim, today=today, codes=codes).issues}


def rule_ids(claim: Claim, *, today: date | None = None, codes: CodeSets | None = None) -> set[str]:
    return {rule_id for rule_id, _ in findings(claim, today=today, codes=codes)}
