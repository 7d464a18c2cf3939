"""Claim factories: the sample claim (workers/sample_claims.py) with overrides, as JSON (`claim_body`) or parsed.

    claim_body()                                    # the valid default, JSON-shaped
    claim_body(diagnosis_codes=["E11.9"])           # replace a field
    claim_body(patient={"sex": "M"})                # dicts merge into the default part
    claim_body(lines__0__charge="12.50")            # `__` walks into nested fields and list items
    claim_body(lines=[line_body(), line_body(line_control_number="L2")])  # total follows the lines
    make_claim(...)                                 # the same, parsed into a `Claim`

Dates and decimals in overrides may be `date`/`Decimal`; the body comes back JSON-ready.
The service date is a few days before today, computed on every call.
"""

from __future__ import annotations

import copy
from datetime import date
from decimal import Decimal
from typing import Any

from domain.claim import Claim
from domain.validation import npi_check_digit
from workers.sample_claims import BILLING_NPI, MEMBER_ID, default_service_date, sample_claim, sample_line

__all__ = [
    "BILLING_NAME",
    "BILLING_NPI",
    "MEMBER_ID",
    "claim_body",
    "line_body",
    "make_claim",
    "service_date",
    "valid_npi",
]

#: tests/db/test_snapshot.py reads the billing provider's name back as this.
BILLING_NAME = "Sandbox Lab"


def service_date() -> date:
    """The default date of service: a few days before today."""
    return default_service_date()


def valid_npi(first_nine: str) -> str:
    """A valid NPI from its first 9 digits (the check digit appended)."""
    return first_nine + npi_check_digit(first_nine)


def line_body(**overrides: Any) -> dict[str, Any]:
    """The sample claim's line (80053 at 45.00, pointing at diagnoses 1 and 2), JSON-shaped, with overrides."""
    line = sample_line()
    _apply(line, overrides)
    result: dict[str, Any] = _jsonable(line)
    return result


def claim_body(**overrides: Any) -> dict[str, Any]:
    """The sample claim as the JSON body of POST /v1/claims, with overrides applied.

    `total_charge` follows the lines (their sum) unless it is overridden itself.
    """
    body = sample_claim()
    body["billing_provider"]["name"] = BILLING_NAME
    _apply(body, overrides)
    if "total_charge" not in overrides:
        body["total_charge"] = sum((Decimal(str(line["charge"])) for line in body["lines"]), Decimal("0.00"))
    result: dict[str, Any] = _jsonable(body)
    return result


def make_claim(**overrides: Any) -> Claim:
    """A valid `Claim` (parsed exactly as the API parses a request), with overrides applied."""
    return Claim.model_validate(claim_body(**overrides))


def _apply(target: dict[str, Any], overrides: dict[str, Any]) -> None:
    for key, value in overrides.items():
        *parents, leaf = key.split("__")
        node: Any = target
        for part in parents:
            node = node[int(part)] if isinstance(node, list) else node[part]
        slot: Any = int(leaf) if isinstance(node, list) else leaf
        current = node[slot] if isinstance(node, list) or slot in node else None
        if isinstance(value, dict) and isinstance(current, dict):
            merged = copy.deepcopy(current)
            merged.update(value)
            node[slot] = merged
        else:
            node[slot] = copy.deepcopy(value)


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return f"{value:.2f}" if value == value.quantize(Decimal("0.01")) else str(value)
    return value
