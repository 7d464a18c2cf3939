"""Claim validation: the edits a clearinghouse applies, every failure reported at once."""

from domain.validation.duplicates import DUPLICATE_RULE_ID, DuplicateKey, duplicate_issues, duplicate_keys
from domain.validation.engine import validate_claim
from domain.validation.issues import Severity, ValidationFinding, ValidationIssue, ValidationReport
from domain.validation.messages import describe, describe_all
from domain.validation.registry import Rule, RuleContext
from domain.validation.rules import RULES
from domain.validation.rules.providers import is_valid_npi, npi_check_digit

__all__ = [
    "DUPLICATE_RULE_ID",
    "RULES",
    "DuplicateKey",
    "Rule",
    "RuleContext",
    "Severity",
    "ValidationFinding",
    "ValidationIssue",
    "ValidationReport",
    "describe",
    "describe_all",
    "duplicate_issues",
    "duplicate_keys",
    "is_valid_npi",
    "npi_check_digit",
    "validate_claim",
]
