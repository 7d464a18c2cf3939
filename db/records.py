"""Read models the repositories return: frozen pydantic records, never mapped rows."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, model_validator

from domain.adjudication import LineAdjudication
from domain.claim import Claim, FrequencyCode
from domain.eligibility import EligibilityResult
from domain.ledger import LedgerEntry, ProviderAdjustment
from domain.status import ClaimStatus

#: What a note is: an adjuster's decision, the submitter's answer to request_info, or a cancellation's reason.
NoteKind = Literal["decision", "information", "cancellation", "void", "reassignment"]


class Record(BaseModel):
    """Base of every read model: immutable."""

    model_config = ConfigDict(frozen=True)


class StatusEntry(Record):
    """One row of a claim's status history, with the note it was made with (decision, information, cancellation)."""

    seq: int
    status: ClaimStatus
    reason: str
    at: datetime
    actor: str
    #: The note's text (may hold PHI: show it only to whom may see the claim) and kind; None without a note.
    note: str | None = None
    note_kind: NoteKind | None = None


class PaymentRecord(Record):
    """The payment a claim received."""

    payment_id: str
    amount: Decimal
    paid_at: datetime


class ClaimSummary(Record):
    """A claim as listings show it: ids, status, amount, who has it (no patient data)."""

    claim_id: str
    org_id: str
    patient_control_number: str
    payer_id: str
    status: ClaimStatus
    total_charge: Decimal
    assigned_adjuster: str | None
    payer_claim_id: str | None
    created_at: datetime
    updated_at: datetime


class ClaimEligibilityRecord(EligibilityResult):
    """The payer's eligibility answer as kept with a claim, with when it was asked."""

    checked_at: datetime


class ClaimRecord(ClaimSummary):
    """Everything the database holds about one claim."""

    claim: Claim
    #: Validation findings as stored (rule_id, path, severity, params); the API renders their messages.
    validation_errors: list[dict[str, Any]]
    status_history: list[StatusEntry]
    adjudication: list[LineAdjudication]
    #: The remittance ledger's entries, in posting order (domain.ledger adds them up).
    ledger: list[LedgerEntry] = []
    #: The provider-level (835 PLB) adjustments of the remittances that posted to the ledger: not the claim's money.
    provider_adjustments: list[ProviderAdjustment] = []
    #: The payer's eligibility answer checked before submission; None when none was asked.
    eligibility: ClaimEligibilityRecord | None = None
    snapshot_version: int | None
    payment: PaymentRecord | None
    request_hash: str
    idempotency_key: str | None


class ClaimLink(Record):
    """A claim at one end of a lineage link (a replacement or void and its original): where it is now."""

    claim_id: str
    status: ClaimStatus
    status_seq: int
    payer_claim_id: str | None
    frequency_code: FrequencyCode


class IntakeResult(Record):
    """The claim an intake resolved to, and whether this call created it."""

    claim_id: str
    created: bool
    request_hash: str


#: Whose claims a scope admits: an organization's, those assigned to one adjuster, a supervisor's team's, or all.
ScopeKind = Literal["organization", "assigned", "team", "all"]


class ClaimScope(Record):
    """Which claims a caller may see, applied in SQL by every claim read and listing.

    - organization: the claims `subject` (an org id) submitted;
    - assigned: the claims assigned to the adjuster `subject`;
    - team: the claims assigned to an adjuster of the team of `subject` (an active supervisor), and the claims
      in review that nobody is assigned; a supervisor not in the adjuster table, inactive or in no team sees none;
    - all: every claim (an admin; the engine itself).
    """

    kind: ScopeKind
    subject: str | None = None

    @model_validator(mode="after")
    def _subject_unless_all(self) -> ClaimScope:
        if (self.kind == "all") != (self.subject is None):
            raise ValueError(f"a {self.kind} scope {'takes no' if self.kind == 'all' else 'needs a'} subject")
        return self


#: Every claim: the engine's own reads, and an admin's.
EVERY_CLAIM = ClaimScope(kind="all")


class ClaimPage(Record):
    """One page of claims, newest first; pass `next_cursor` back for the next page."""

    items: list[ClaimSummary]
    next_cursor: str | None


class AuditEntry(Record):
    """One audit log row."""

    id: int
    claim_id: str | None
    actor: str
    action: str
    at: datetime
    details: dict[str, Any]


class CodeRow(Record):
    """One ICD-10-CM or CPT/HCPCS code with its validity window."""

    code: str
    description: str
    effective_date: date
    termination_date: date | None
    billable: bool


class PayerRow(Record):
    """A payer."""

    payer_id: str
    name: str
    active: bool


class ProviderRow(Record):
    """A provider as last seen (reference data, not a snapshot)."""

    npi: str
    name: str | None
    tax_id: str | None


class PatientRow(Record):
    """A reference patient."""

    patient_id: str
    first_name: str
    last_name: str
    date_of_birth: date
    sex: str
    payer_id: str
    member_id: str
