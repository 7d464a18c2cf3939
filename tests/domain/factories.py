"""Claim factories: a valid claim body with overrides, as JSON (`claim_body`) or parsed (`make_claim`).

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
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from domain.claim import Claim
from domain.validation import npi_check_digit

SERVICE_DAYS_AGO = 3
BILLING_NPI = "1234567893"  # the CMS example NPI
RENDERING_NPI = "1245319599"
TAX_ID = "123456789"
MEMBER_ID = "M123456"
PAYER_ID = "SANDBOX"


def service_date() -> date:
    """The default date of service: a few days before today."""
    return date.today() - timedelta(days=SERVICE_DAYS_AGO)


def valid_npi(first_nine: str) -> str:
    """A valid NPI from its first 9 digits (the check digit appended)."""
    return first_nine + npi_check_digit(first_nine)


def line_body(**overrides: Any) -> dict[str, Any]:
    """One valid service line, JSON-shaped: 80053 at 45.00, pointing at diagnoses 1 and 2."""
    line: dict[str, Any] = {
        "procedure_code": "80053",
        "modifiers": [],
        "charge": "45.00",
        "units": 1,
        "service_date": service_date(),
        "place_of_service": "81",
        "diagnosis_pointers": [1, 2],
        "line_control_number": "L1",
    }
    _apply(line, overrides)
    result: dict[str, Any] = _jsonable(line)
    return result


def claim_body(**overrides: Any) -> dict[str, Any]:
    """A valid claim as the JSON body of POST /v1/claims, with overrides applied.

    `total_charge` follows the lines (their sum) unless it is overridden itself.
    """
    body: dict[str, Any] = {
        "patient_control_number": "PCN-0001",
        "patient": {
            "first_name": "Test",
            "last_name": "Patient",
            "date_of_birth": "1980-04-12",
            "sex": "F",
            "member_id": MEMBER_ID,
            "relationship_to_subscriber": "18",
        },
        "insurance": {"payer_id": PAYER_ID, "member_id": MEMBER_ID, "group_number": "G-100"},
        "billing_provider": {"npi": BILLING_NPI, "name": "Sandbox Lab", "tax_id": TAX_ID},
        "diagnosis_codes": ["E11.9", "I10"],
        "lines": [line_body()],
        "total_charge": None,
        "bill_ids": ["BILL-77"],
        "frequency_code": "1",
    }
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
