"""Claim response shapes: accepted, read, page; and the bodies of cancel and information requests.

A claim is shown in the projection of the caller's role (minimum necessary, HIPAA §164.502(b)); a field a role
may not see is null. The table is api.presenters.PROJECTIONS; each field's description names who sees it.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from api.schemas.eligibility import EligibilityRead
from api.schemas.risk import RiskReasonRead
from domain.adjudication import Adjustment
from domain.claim import Address, BillingProvider, FrequencyCode, Provider, ServiceLine, Sex
from domain.decision import DecisionAction
from domain.documents import DocumentType
from domain.ledger import LedgerKind, LedgerSource, LineTotals, Totals
from domain.money import Money, SignedMoney
from domain.priority import Priority
from domain.status import ClaimStatus
from domain.validation import ValidationIssue
from services.claims import NOTE_BODY_MAX_CHARS, NoteKind


class ClaimAccepted(BaseModel):
    claim_id: str
    status: ClaimStatus
    workflow_id: str


class Projection(StrEnum):
    """Which fields of a claim the caller's role sees (null: not for this role)."""

    FULL = "full"  # submitter: its own claim, all of it
    ADJUDICATION = "adjudication"  # adjuster, supervisor: what deciding the claim needs
    OPERATIONS = "operations"  # admin: ids, statuses, amounts and codes; no patient data, no notes


SUBMITTER_ONLY = "Submitter only (projection full); null for adjusters, supervisors and admins."
NOT_ADMIN = "Submitters, adjusters and supervisors (projections full, adjudication); null for admins (operations)."


class StatusHistoryEntry(BaseModel):
    status: ClaimStatus
    at: datetime
    reason: str
    actor: str | None = None
    note: str | None = Field(
        default=None,
        description="The note this change was made with (a decision's note, the information provided, a "
        f"cancellation's reason). {NOT_ADMIN}",
    )
    note_kind: NoteKind | None = None


class LineAdjudicationRead(BaseModel):
    billed: Money
    allowed: Money
    paid: Money
    adjustments: list[Adjustment]
    remark_codes: list[str] = []


class LedgerEntryRead(BaseModel):
    """One posting of the remittance ledger: a line's (or, with no line number, the claim's) amounts from one
    answer. Entries are never changed: a reversal posts the negated amounts, a correction posts anew."""

    kind: LedgerKind
    source: LedgerSource
    remittance_id: str = Field(
        description="The answer it came from: an 835's payer, trace number, payer claim id "
        "and CLP02, or the status change (status:<seq>) that recorded a processor's or "
        "adjuster's adjudication."
    )
    payer_claim_id: str
    line_number: int | None = Field(description="The claim line; null for a claim-level entry.")
    billed: SignedMoney
    allowed: SignedMoney
    paid: SignedMoney
    patient_responsibility: SignedMoney
    adjustments: list[Adjustment]
    remark_codes: list[str]
    reverses: str | None = Field(default=None, description="The remittance a reversal backs out (null: not yet seen).")
    at: datetime


class ProviderAdjustmentRead(BaseModel):
    """A provider-level adjustment (835 PLB) of a remittance that paid the claim: money between payer and provider
    (interest, a recouped overpayment, …) that is in no claim's totals. A positive amount reduces the payment."""

    remittance_id: str = Field(description="The 835 it came from: its payer and check or EFT trace number.")
    position: int = Field(description="Its place among the remittance's PLB adjustments, from 1.")
    provider_id: str
    fiscal_period_date: date | None
    reason_code: str = Field(description="PLB03-1, e.g. L6 interest, WO overpayment recovery, FB forwarding balance.")
    reference: str | None = Field(
        description="PLB03-2, often a patient control number or payer claim id (null in the operations projection)."
    )
    amount: SignedMoney


class ClaimLedgerRead(BaseModel):
    """The claim's remittance ledger: its entries in posting order, and what they add up to per line and in all
    (adjustments netted by group and reason); beside them, kept out of the totals, the provider-level adjustments
    of the 835s that paid it."""

    entries: list[LedgerEntryRead]
    lines: list[LineTotals]
    totals: Totals
    provider_adjustments: list[ProviderAdjustmentRead] = []


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


class PatientRead(BaseModel):
    """The patient, as far as the caller's role may see it."""

    initials: str = Field(
        description="The first letters of first and last name (e.g. AR). Submitters, adjusters and supervisors."
    )
    first_name: str | None = Field(default=None, description=SUBMITTER_ONLY)
    last_name: str | None = Field(default=None, description=SUBMITTER_ONLY)
    date_of_birth: date | None = Field(default=None, description=f"Age edits, eligibility. {NOT_ADMIN}")
    sex: Sex | None = Field(default=None, description=f"Sex-specific code edits. {NOT_ADMIN}")
    member_id: str | None = Field(default=None, description=f"Eligibility with the payer. {NOT_ADMIN}")
    relationship_to_subscriber: str | None = Field(default=None, description=NOT_ADMIN)
    address: Address | None = Field(default=None, description=SUBMITTER_ONLY)


class InsuranceRead(BaseModel):
    payer_id: str
    member_id: str | None = Field(default=None, description=NOT_ADMIN)
    group_number: str | None = Field(default=None, description=NOT_ADMIN)
    plan: str | None = Field(default=None, description=NOT_ADMIN)


class ClaimDocumentRead(BaseModel):
    """The claim as submitted, in the caller's projection: codes, lines and amounts for every role; patient data
    as far as the role needs it."""

    patient_control_number: str | None = Field(default=None, description=NOT_ADMIN)
    patient: PatientRead | None = Field(default=None, description=NOT_ADMIN)
    insurance: InsuranceRead
    billing_provider: BillingProvider
    rendering_provider: Provider | None = None
    referring_provider: Provider | None = None
    diagnosis_codes: list[str]
    lines: list[ServiceLine]
    total_charge: Money
    bill_ids: list[str] | None = Field(default=None, description=f"The submitter's own bill ids. {SUBMITTER_ONLY}")
    frequency_code: FrequencyCode
    original_payer_claim_id: str | None = None


class ClaimEligibilityRead(EligibilityRead):
    """The payer's eligibility answer (271) checked before the claim was sent (the answer of POST /v1/eligibility),
    with when it was asked."""

    checked_at: datetime


class RecommendationRead(BaseModel):
    """An approval waiting for a supervisor: what was recommended, for how much, by whom."""

    action: DecisionAction
    amount: Money
    recommended_by: str


class ClaimRead(BaseModel):
    """A claim as the API shows it: the snapshot plus the workflow's live state, in the projection of the caller's
    role (`projection`): submitter full; adjuster and supervisor adjudication (no patient name, address or bill
    ids); admin operations (no patient data, no notes)."""

    projection: Projection
    claim_id: str
    workflow_id: str
    org_id: str
    status: ClaimStatus
    status_history: list[StatusHistoryEntry]
    patient_control_number: str | None = Field(description=f"The submitter's id for the patient's claim. {NOT_ADMIN}")
    payer_id: str
    total_charge: Money
    lines: list[ClaimLineRead]
    assigned_adjuster: str | None
    assignment_rule: str | None = Field(
        default=None, description="The assignment rule and rules' version that chose the assignee: `rule-id@v3`."
    )
    review_due_at: datetime | None = Field(
        default=None, description="When the assignee's review is due (the SLA); past it, the claim is escalated."
    )
    information_requested: list[DocumentType] = Field(
        default=[],
        description="While information is requested: the document types the answer must attach, one of each.",
    )
    priority: Priority | None = Field(
        default=None,
        description="In review or waiting for information: its priority in queues, from amount, age, review due "
        "time and risk score, computed now (null otherwise).",
    )
    recommendation: RecommendationRead | None = Field(
        default=None,
        description="An approval its adjuster recommended above their authority limit: a supervisor confirms, "
        "changes or denies it (two-step approval).",
    )
    payer_claim_id: str | None
    validation_errors: list[ValidationIssue]
    validation_warnings: list[ValidationIssue] = []
    review_reason: str | None = None
    risk_score: int | None = Field(
        default=None,
        description="The risk screen's latest score (0-100; at or above the threshold the claim goes to review). "
        "Null until screened, and once the claim's workflow has ended.",
    )
    risk_reasons: list[RiskReasonRead] = Field(
        default=[], description="Why the score rose: rule id, weight and what it found (codes, counts, charges)."
    )
    waiting_for: str | None = None
    payment: PaymentRead | None = None
    ledger: ClaimLedgerRead | None = Field(
        default=None, description="The remittance ledger (every projection; null until the claim is adjudicated)."
    )
    eligibility: ClaimEligibilityRead | None = Field(
        default=None,
        description="The payer's eligibility answer checked before submission, where the claim's integration asks "
        "for it (null when none was asked; null for admins).",
    )
    replaces: str | None = Field(
        default=None, description="The claim id of the original this corrected claim (frequency 7) replaces."
    )
    replaced_by: list[str] = Field(default=[], description="The corrected claims (frequency 7) that replace it.")
    voids: str | None = Field(default=None, description="The claim id of the original this void (frequency 8) voids.")
    voided_by: list[str] = Field(default=[], description="The void claims (frequency 8) of this claim.")
    created_at: datetime
    updated_at: datetime
    claim: ClaimDocumentRead


class ClaimSummaryRead(BaseModel):
    """A claim in a listing (no patient data beyond the submitter's control number)."""

    claim_id: str
    status: ClaimStatus
    patient_control_number: str | None = Field(description=NOT_ADMIN)
    payer_id: str
    total_charge: Money
    assigned_adjuster: str | None
    payer_claim_id: str | None
    created_at: datetime
    updated_at: datetime


class ClaimPage(BaseModel):
    projection: Projection
    data: list[ClaimSummaryRead]
    count: int
    next_cursor: str | None


#: A note's text: what an adjuster, a submitter or a cancellation says (kept in the database, never in the workflow).
NoteText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=NOTE_BODY_MAX_CHARS)]


class CancelRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: NoteText | None = None


class VoidRequest(BaseModel):
    """POST /v1/claims/{id}/void: why the claim is withdrawn (kept as the void claim's note)."""

    model_config = ConfigDict(extra="forbid")

    reason: NoteText | None = None


class InformationRequest(BaseModel):
    """An answer to a request for information: a note, documents uploaded to the claim, or both."""

    model_config = ConfigDict(extra="forbid")

    note: NoteText | None = None
    document_ids: Annotated[list[Annotated[str, StringConstraints(max_length=64)]], Field(max_length=20)] = []

    @model_validator(mode="after")
    def _says_something(self) -> InformationRequest:
        if self.note is None and not self.document_ids:
            raise ValueError("an answer needs a note, document_ids, or both")
        return self


class ReassignRequest(BaseModel):
    """Who gets the claim (leave out to let the assignment rules choose anyone but the current assignee), and why."""

    model_config = ConfigDict(extra="forbid")

    adjuster_id: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)] | None = None
    reason: NoteText


class ProcessorWebhook(BaseModel):
    payer_claim_id: Annotated[str, Field(min_length=1, max_length=100)]
    category: str | None = None


class ValidationResult(BaseModel):
    valid: bool
    errors: list[ValidationIssue]
    warnings: list[ValidationIssue]
