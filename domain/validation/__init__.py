"""Claim validation: the edits a clearinghouse applies, every failure reported at once."""

from domain.validation.engine import validate_claim
from domain.validation.issues import Severity, ValidationIssue, ValidationReport

__all__ = ["Severity", "ValidationIssue", "ValidationReport", "validate_claim"]
