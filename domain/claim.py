"""The claim as submitted, shaped after the X12 837P professional claim."""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints

from domain.codes import canonical_icd10, canonical_procedure
from domain.money import Money

Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=60)]
Code = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=30)]
#: An ICD-10-CM code, spelled canonically (`e119` -> `E11.9`); whether it exists is a rule, not shape.
DiagnosisCode = Annotated[Code, AfterValidator(canonical_icd10)]
ProcedureCode = Annotated[Code, AfterValidator(canonical_procedure)]


class Sex(StrEnum):
    """Administrative sex as the 837P carries it."""

    FEMALE = "F"
    MALE = "M"
    UNKNOWN = "U"


class FrequencyCode(StrEnum):
    """Claim frequency: original, replacement (corrected) or void."""

    ORIGINAL = "1"
    REPLACEMENT = "7"
    VOID = "8"


class ClaimModel(BaseModel):
    """Base for claim parts: unknown fields are refused, values are frozen."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class Address(ClaimModel):
    line1: Text
    line2: Text | None = None
    city: Text
    state: Annotated[str, StringConstraints(min_length=2, max_length=2)]
    postal_code: Annotated[str, StringConstraints(min_length=5, max_length=10)]


class Patient(ClaimModel):
    first_name: Text
    last_name: Text
    date_of_birth: date
    sex: Sex
    member_id: Code
    relationship_to_subscriber: Annotated[str, StringConstraints(min_length=2, max_length=2)] = "18"
    address: Address | None = None


class Insurance(ClaimModel):
    payer_id: Code
    member_id: Code
    group_number: Code | None = None
    plan: Text | None = None


class BillingProvider(ClaimModel):
    npi: Code
    name: Text
    tax_id: Code
    address: Address | None = None


class Provider(ClaimModel):
    npi: Code
    name: Text | None = None


class ServiceLine(ClaimModel):
    """One billed service; for a lab, one test."""

    procedure_code: ProcedureCode
    modifiers: Annotated[list[Code], Field(max_length=10)] = []
    charge: Money
    units: Annotated[int, Field(ge=0, le=9999)] = 1
    service_date: date
    place_of_service: Annotated[str, StringConstraints(min_length=2, max_length=2)] = "81"
    diagnosis_pointers: Annotated[list[int], Field(min_length=1, max_length=12)]
    line_control_number: Code


class Claim(ClaimModel):
    """A professional claim: the request body, the validated record, the snapshot source."""

    patient_control_number: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=38)]
    patient: Patient
    insurance: Insurance
    billing_provider: BillingProvider
    rendering_provider: Provider | None = None
    referring_provider: Provider | None = None
    diagnosis_codes: Annotated[list[DiagnosisCode], Field(min_length=1, max_length=24)]
    lines: Annotated[list[ServiceLine], Field(min_length=1, max_length=50)]
    total_charge: Money
    bill_ids: Annotated[list[Code], Field(max_length=50)] = []
    frequency_code: FrequencyCode = FrequencyCode.ORIGINAL
    original_payer_claim_id: Code | None = None
