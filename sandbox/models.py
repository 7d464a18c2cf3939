"""Request bodies the sandbox accepts, as pydantic models."""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from sandbox.money import Money


class ClaimLineIn(BaseModel):
    """One service line of a submitted claim."""

    model_config = ConfigDict(extra="allow")

    line_number: int = Field(ge=1)
    procedure_code: str = Field(min_length=1, max_length=48)
    charge: Money
    units: int = Field(default=1, ge=0, le=99999)
    service_date: date


class ClaimSubmission(BaseModel):
    """POST /v1/claims: an 837-like claim (extra fields are allowed and stored)."""

    model_config = ConfigDict(extra="allow")

    claim_id: str = Field(min_length=1, max_length=128)
    patient_control_number: str = Field(min_length=1, max_length=128)
    payer_id: str = Field(min_length=1, max_length=128)
    member_id: str = Field(min_length=1, max_length=128)
    total_charge: Money
    frequency_code: Literal["1", "7", "8"] = "1"
    lines: list[ClaimLineIn] = Field(min_length=1, max_length=999)
    callback_url: str | None = Field(default=None, pattern=r"^https?://", max_length=2048)


class PaymentLineIn(BaseModel):
    """One line of a payment instruction."""

    model_config = ConfigDict(extra="allow")

    line_number: int = Field(ge=1)
    amount: Money


class PaymentRequest(BaseModel):
    """POST /v1/payments: pay (part of) a finalized payer claim."""

    model_config = ConfigDict(extra="allow")

    payer_claim_id: str = Field(min_length=1, max_length=128)
    claim_id: str = Field(min_length=1, max_length=128)
    amount: Money
    lines: list[PaymentLineIn] = Field(default_factory=list, max_length=999)


class EligibilityRequest(BaseModel):
    """POST /v1/eligibility: a 270-like inquiry."""

    model_config = ConfigDict(extra="ignore")

    payer_id: str = Field(min_length=1, max_length=128)
    provider_npi: str = Field(min_length=1, max_length=32)
    member_id: str = Field(min_length=1, max_length=128)
    first_name: str = Field(min_length=1, max_length=128)
    last_name: str = Field(min_length=1, max_length=128)
    date_of_birth: date
    service_type: str = Field(default="30", min_length=1, max_length=8)


#: The /v1/* endpoints faults can be limited to (FaultSettings.endpoints).
Endpoint = Literal["submit", "status", "pay", "eligibility"]


class FaultSettings(BaseModel):
    """Fault injection rates for /v1/*; omitted fields mean 'off' (their defaults)."""

    model_config = ConfigDict(extra="forbid")

    error_rate: float = Field(default=0.0, ge=0, le=1)
    lost_reply_rate: float = Field(default=0.0, ge=0, le=1)
    slow_rate: float = Field(default=0.0, ge=0, le=1)
    slow_seconds: float = Field(default=0.5, ge=0, le=600)
    timeout_rate: float = Field(default=0.0, ge=0, le=1)
    timeout_seconds: float = Field(default=30.0, ge=0, le=3600)
    #: After the work: close the connection without any answer.
    dropped_reply_rate: float = Field(default=0.0, ge=0, le=1)
    #: After the work: keep the answer for held_reply_seconds (or until the client goes away), then send it.
    held_reply_rate: float = Field(default=0.0, ge=0, le=1)
    held_reply_seconds: float = Field(default=5.0, ge=0, le=3600)
    #: Only these endpoints are faulted (None: every /v1/* request).
    endpoints: list[Endpoint] | None = None
    #: At most this many faults per endpoint and Idempotency-Key (None: no limit; requests without a key: no limit).
    max_per_key: int | None = Field(default=None, ge=1)
    seed: int | None = None
