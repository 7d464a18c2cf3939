"""Claim response shapes: accepted, read, page; and the bodies of cancel and information requests."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from domain.adjudication import Adjustment
from domain.claim import Claim
from domain.money import Money
from domain.status import ClaimStatus
from domain.validation import ValidationIssue
from services.claims import NOTE_BODY_MAX_CHARS, NoteKind


class ClaimAccepted(BaseModel):
    claim_id: str
    status: ClaimStatus
    workflow_id: str


class StatusHistoryEntry(BaseModel):
    status: ClaimStatus
    at: datetime
    reason: str
    actor: str | None = None
    #: The note this change was made with (a decision's note, the information provided, a cancellation's reason).
    note: str | None = None
    note_kind: NoteKind | None = None


class LineAdjudicationRead(BaseModel):
    billed: Money
    allowed: Money
    paid: Money
    adjustments: list[Adjustment]
    remark_codes: list[str] = []


class ClaimLineRead(BaseModel):
    line_number: int
    line_control_number: str
    procedure_code: str
    modifiers: list[str]
    charge: Money
    units: int
    service_date: date
    adjudication: LineAdjudicationRead | None = None


class PaymentRead(BaseModel):
    payment_id: str
    amount: Money
    paid_at: datetime | None = None


class ClaimRead(BaseModel):
    """A claim as the API shows it: the snapshot plus the workflow's live state."""

    claim_id: str
    workflow_id: str
    org_id: str
    status: ClaimStatus
    status_history: list[StatusHistoryEntry]
    patient_control_number: str
    payer_id: str
    total_charge: Money
    lines: list[ClaimLineRead]
    assigned_adjuster: str | None
    payer_claim_id: str | None
    validation_errors: list[ValidationIssue]
    validation_warnings: list[ValidationIssue] = []
    review_reason: str | None = None
    waiting_for: str | None = None
    payment: PaymentRead | None = None
    created_at: datetime
    updated_at: datetime
    claim: Claim


class ClaimSummaryRead(BaseModel):
    claim_id: str
    status: ClaimStatus
    patient_control_number: str
    payer_id: str
    total_charge: Money
    assigned_adjuster: str | None
    payer_claim_id: str | None
    created_at: datetime
    updated_at: datetime


class ClaimPage(BaseModel):
    data: list[ClaimSummaryRead]
    count: int
    next_cursor: str | None


#: A note's text: what an adjuster, a submitter or a cancellation says (kept in the database, never in the workflow).
NoteText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=NOTE_BODY_MAX_CHARS)]


class CancelRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: NoteText | None = None


class InformationRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    note: NoteText


class ProcessorWebhook(BaseModel):
    payer_claim_id: Annotated[str, Field(min_length=1, max_length=100)]
    category: str | None = None


class ValidationResult(BaseModel):
    valid: bool
    errors: list[ValidationIssue]
    warnings: list[ValidationIssue]
