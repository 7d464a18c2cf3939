"""The rule table: every pure edit, one row each, grouped by the part of the claim it judges."""

from domain.validation.registry import Rule
from domain.validation.rules import charges, dates, diagnoses, procedures, providers, scrubber, scrubber_mce, structure

#: Every pure rule, in report order. Ids are stable: the API and payers' tooling key on them.
RULES: tuple[Rule, ...] = (
    *diagnoses.RULES,
    *procedures.RULES,
    *providers.RULES,
    *dates.RULES,
    *charges.RULES,
    *structure.RULES,
    *scrubber_mce.RULES,
    *scrubber.RULES,
)

__all__ = ["RULES"]
