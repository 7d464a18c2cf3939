"""Front-end edits the sandbox payer applies to a parsed claim before accepting it (A7 on failure)."""

from __future__ import annotations

from sandbox.models import ClaimSubmission
from sandbox.money import ZERO
from sandbox.scenarios import Step


def rejection_for(claim: ClaimSubmission) -> Step | None:
    """An A7 step naming every problem with the claim, or None when it passes the edits."""
    problems: list[str] = []
    if sum((line.charge for line in claim.lines), ZERO) != claim.total_charge:
        problems.append("total_charge does not equal the sum of the line charges")
    numbers = [line.line_number for line in claim.lines]
    if len(set(numbers)) != len(numbers):
        problems.append("line_number values are not unique")
    if any(line.charge <= ZERO for line in claim.lines):
        problems.append("every line charge must be greater than 0.00")
    if any(line.units <= 0 for line in claim.lines):
        problems.append("every line needs units greater than 0")
    if not problems:
        return None
    return Step("A7", "21", "rejected for invalid information: " + "; ".join(problems))
