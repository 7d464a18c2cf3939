"""Sample claim bodies for the sandbox's scenarios: `claimflow load`, the benchmarks and the tests.

One body, the README's example claim ("The API in a few curl lines"): Ana Ruiz, member M123456 of
the SANDBOX payer, Acme Lab billing a metabolic panel (80053, 45.00) for E11.9 and I10. It differs
from the page in two ways: its service date is a few days before today, so the claim is timely
whenever it is sent, and each line points at every diagnosis it can (up to four), so the claim passes
every edit without a warning. Bodies are JSON-shaped, ready to POST to /v1/claims.

    sample_claim()                        # the README's claim
    scenario_claim("DENY")                # member DENY<8 random hex>, its own patient control number
    scenario_claim("M", f"{run}{n:07d}")  # a member id of the caller's making: M<run><n>
    sample_claim(lines=50, diagnosis_codes=[...], procedure_codes=[...])  # a larger claim

The sandbox answers by the member id's prefix (M… paid in full, DENY… denied, PART…, PEND…, NEVER…:
sandbox/README.md); a member id of its own also keeps the claim from being a duplicate of another.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

MEMBER_ID = "M123456"
PAYER_ID = "SANDBOX"
BILLING_NPI = "1234567893"  # the CMS example NPI
TAX_ID = "123456789"
PATIENT_CONTROL_NUMBER = "LAB-000123"
DIAGNOSIS_CODES = ("E11.9", "I10")
PROCEDURE_CODES = ("80053",)
LINE_CHARGE = Decimal("45.00")
#: The service date is this many days before today.
SERVICE_DAYS_AGO = 3
#: Diagnosis pointers a line may carry (the 837P's limit).
MAX_POINTERS = 4
#: Characters of a patient control number that payers keep (domain/validation/rules/structure.py).
CONTROL_NUMBER_LENGTH = 17


def default_service_date() -> date:
    """The date of service of a sample claim: a few days before today."""
    return date.today() - timedelta(days=SERVICE_DAYS_AGO)


def scenario_member_id(prefix: str, tag: str | None = None) -> str:
    """`prefix` (the sandbox scenario) then `tag`, or 8 random hex digits when there is none; upper case."""
    return f"{prefix}{uuid.uuid4().hex[:8] if tag is None else tag}".upper()


def control_number_for(member_id: str) -> str:
    """A patient control number as unique as the member id's tail, within the length payers keep."""
    prefix = "LAB-"
    return prefix + member_id[-(CONTROL_NUMBER_LENGTH - len(prefix)) :]


def sample_line(
    index: int = 0,
    *,
    diagnoses: int = len(DIAGNOSIS_CODES),
    procedure_codes: Sequence[str] = PROCEDURE_CODES,
    service_date: date | None = None,
) -> dict[str, Any]:
    """Line `index + 1`: the procedure codes in turn, pointing at up to four of `diagnoses` codes in turn."""
    pointers = min(diagnoses, MAX_POINTERS)
    return {
        "procedure_code": procedure_codes[index % len(procedure_codes)],
        "modifiers": [],
        "charge": str(LINE_CHARGE),
        "units": 1,
        "service_date": (service_date or default_service_date()).isoformat(),
        "diagnosis_pointers": [(index * pointers + k) % diagnoses + 1 for k in range(pointers)],
        "line_control_number": f"L{index + 1}",
    }


def sample_claim(
    member_id: str = MEMBER_ID,
    *,
    patient_control_number: str = PATIENT_CONTROL_NUMBER,
    lines: int = 1,
    diagnosis_codes: Sequence[str] = DIAGNOSIS_CODES,
    procedure_codes: Sequence[str] = PROCEDURE_CODES,
    service_date: date | None = None,
) -> dict[str, Any]:
    """The README's example claim for `member_id`, with `lines` lines of 45.00 (the total follows them)."""
    return {
        "patient_control_number": patient_control_number,
        "patient": {
            "first_name": "Ana",
            "last_name": "Ruiz",
            "date_of_birth": "1980-04-02",
            "sex": "F",
            "member_id": member_id,
        },
        "insurance": {"payer_id": PAYER_ID, "member_id": member_id, "group_number": "G100"},
        "billing_provider": {"npi": BILLING_NPI, "name": "Acme Lab", "tax_id": TAX_ID},
        "diagnosis_codes": list(diagnosis_codes),
        "lines": [
            sample_line(i, diagnoses=len(diagnosis_codes), procedure_codes=procedure_codes, service_date=service_date)
            for i in range(lines)
        ],
        "total_charge": str(LINE_CHARGE * lines),
        "bill_ids": ["BILL-77"],
        "frequency_code": "1",
    }


def scenario_claim(prefix: str = "M", tag: str | None = None, *, service_date: date | None = None) -> dict[str, Any]:
    """The sample claim for one sandbox scenario: member id `prefix` + `tag` (random without one), and a patient
    control number of its own."""
    member_id = scenario_member_id(prefix, tag)
    return sample_claim(member_id, patient_control_number=control_number_for(member_id), service_date=service_date)
