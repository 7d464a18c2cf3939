"""Eligibility: the inquiry a 270 carries, the answer read from a 271, and the demographic mismatch comparison."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from enum import StrEnum
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints, field_validator

from domain.claim import ClaimModel, Sex
from domain.errors import DomainError
from domain.money import Money
from domain.validation.rules.providers import is_valid_npi

#: Text a 270 can carry: none of the interchange's delimiters (* ~ : ^ |) and no line break.
_X12_SAFE = r"^[^*~:^|\r\n]+$"
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=60, pattern=_X12_SAFE)]
Identifier = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=30, pattern=_X12_SAFE)]
#: An X12 service type code (EB03/EQ01), e.g. 30 health benefit plan coverage, 5 diagnostic lab.
ServiceTypeCode = Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^[A-Z0-9]{1,2}$")]


def _npi(value: str) -> str:
    if not is_valid_npi(value):
        raise ValueError("is not a valid NPI: 10 digits with a Luhn check digit (prefix 80840)")
    return value


class InquiryPatient(ClaimModel):
    first_name: Name
    last_name: Name
    date_of_birth: dt.date
    sex: Sex
    member_id: Identifier


class InquiryInsurance(ClaimModel):
    payer_id: Identifier
    member_id: Identifier
    group_number: Identifier | None = None


class InquiryProvider(ClaimModel):
    npi: Annotated[str, StringConstraints(strip_whitespace=True), AfterValidator(_npi)]
    name: Name


class EligibilityInquiry(ClaimModel):
    """Is this member covered for this service on this day, and what will they owe? (the 270's question)."""

    patient: InquiryPatient
    insurance: InquiryInsurance
    provider: InquiryProvider
    service_date: dt.date
    service_type_code: ServiceTypeCode = "30"


class Coverage(StrEnum):
    ACTIVE = "active"
    INACTIVE = "inactive"
    UNKNOWN = "unknown"  # the payer answered but said neither (a rejection, no coverage benefit)


class DemographicField(StrEnum):
    """The fields of the inquiry compared with the payer's record of the member."""

    FIRST_NAME = "first_name"
    LAST_NAME = "last_name"
    DATE_OF_BIRTH = "date_of_birth"
    MEMBER_ID = "member_id"


class PayerMember(BaseModel):
    """The member as the payer has them (271 NM1/DMG): compared, never shown, logged or kept."""

    model_config = ConfigDict(frozen=True)

    first_name: str = Field(default="", repr=False)
    last_name: str = Field(default="", repr=False)
    date_of_birth: dt.date | None = Field(default=None, repr=False)
    member_id: str = Field(default="", repr=False)


def _same(ours: str, theirs: str) -> bool:
    """Names and ids compared as payers match them: case, spaces and punctuation aside."""
    return "".join(c for c in ours.upper() if c.isalnum()) == "".join(c for c in theirs.upper() if c.isalnum())


def mismatches(inquiry: EligibilityInquiry, payer: PayerMember) -> list[DemographicField]:
    """Which of the inquiry's fields the payer's record disagrees with (a field the payer left blank is not)."""
    found: list[DemographicField] = []
    if payer.first_name and not _same(inquiry.patient.first_name, payer.first_name):
        found.append(DemographicField.FIRST_NAME)
    if payer.last_name and not _same(inquiry.patient.last_name, payer.last_name):
        found.append(DemographicField.LAST_NAME)
    if payer.date_of_birth is not None and payer.date_of_birth != inquiry.patient.date_of_birth:
        found.append(DemographicField.DATE_OF_BIRTH)
    if payer.member_id and not _same(inquiry.insurance.member_id, payer.member_id):
        found.append(DemographicField.MEMBER_ID)
    return found


class EligibilityResult(BaseModel):
    """The payer's answer: coverage, the plan, what the member owes, and where the inquiry disagrees with it."""

    model_config = ConfigDict(frozen=True)

    coverage: Coverage
    plan: str | None = None
    copay: Money | None = None
    #: The member's share after the deductible, in percent (20 for 20 %).
    coinsurance_percent: Decimal | None = None
    deductible: Money | None = None
    deductible_remaining: Money | None = None
    out_of_pocket_remaining: Money | None = None
    in_network: bool | None = None
    prior_authorization_required: bool | None = None
    mismatches: list[DemographicField] = []

    @field_validator("coinsurance_percent")
    @classmethod
    def _two_places(cls, value: Decimal | None) -> Decimal | None:
        """20, 20.0 and 0.20 x 100 are one percent: kept with two places."""
        return None if value is None else value.quantize(Decimal("0.01"))

    @property
    def active(self) -> bool:
        return self.coverage is Coverage.ACTIVE

    def without_benefits(self) -> EligibilityResult:
        """An inactive or unknown coverage carries no plan or amounts (what a payer reports then means nothing)."""
        return EligibilityResult(coverage=self.coverage, mismatches=self.mismatches)


class PayerUnavailableError(DomainError):
    """The payer's processor did not answer (down, timed out) after a few tries; retry after `retry_after_seconds`."""

    code = "payer_unavailable"
    retry_after_seconds = 30


class EligibilityNotConfiguredError(PayerUnavailableError):
    """No processor integration answers eligibility inquiries in this deployment."""

    code = "eligibility_not_configured"


class PayerAnswerError(DomainError):
    """The payer refused the inquiry or answered with something that is not a readable eligibility answer."""

    code = "payer_answer_invalid"
