"""The activities' contract: their names, input and result models, and failure types — no database or HTTP.

ClaimWorkflow imports only this module of activities/: it calls each activity by the name here,
and the activity classes register their methods under the same names. One input and one result
model per activity, so adding a field never breaks a running claim.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Generic, TypeVar

from pydantic import BaseModel, ConfigDict
from temporalio.exceptions import ApplicationError

from domain.adjudication import Category, LineAdjudication, ProcessorStatus
from domain.assignment import ClaimKind, rule_label
from domain.claim import FrequencyCode
from domain.decision import BilledLine
from domain.errors import DomainError
from domain.integrations import Adapter
from domain.risk import RiskReason
from domain.status import ClaimStatus
from domain.validation import ValidationFinding

InputT = TypeVar("InputT", bound=BaseModel)
ResultT = TypeVar("ResultT", bound=BaseModel)


@dataclass(frozen=True)
class Activity(Generic[InputT, ResultT]):
    """An activity as the workflow sees it: the name it is registered under and its two models."""

    name: str
    input: type[InputT]
    result: type[ResultT]


# ---- failures ----------------------------------------------------------------------------------

#: The processor refused the request itself (4xx): retrying the same request cannot help.
PROCESSOR_REFUSED = "processor_refused_request"
#: The claim the activity was asked about does not exist.
CLAIM_NOT_FOUND = "claim_not_found"
#: Failure types no retry can fix; anything else an activity raises is retried.
NON_RETRYABLE = [PROCESSOR_REFUSED, CLAIM_NOT_FOUND]


def business_failure(code: str, message: str) -> ApplicationError:
    """The one way to fail for a business reason: not retried, and `type` carries the stable code."""
    return ApplicationError(message, type=code, non_retryable=True)


def failure_for_rule(error: DomainError) -> ApplicationError:
    """A domain rule's refusal, as the caller of an update (or an operator) sees it."""
    return business_failure(error.code, error.message)


def enforce(rule: Callable[[], object]) -> None:
    """Run a domain rule's check; its refusal becomes the business failure the caller sees."""
    try:
        rule()
    except DomainError as error:
        raise failure_for_rule(error) from error


# ---- recording status changes -------------------------------------------------------------------


class RecordedPayment(BaseModel):
    """A payment the processor made, recorded with the status change that reports it."""

    payment_id: str
    amount: Decimal
    paid_at: datetime


class StatusDetails(BaseModel):
    """What a status change records besides the status itself (each only when it changed)."""

    assigned_adjuster: str | None = None
    payer_claim_id: str | None = None
    #: Validation findings (errors and warnings) kept with the claim once the workflow ends: rule ids, paths and
    #: parameters, no sentence (the API renders the message from the claim when it shows them).
    validation_issues: list[ValidationFinding] | None = None
    adjudication: list[LineAdjudication] | None = None
    #: Who adjudicated the lines: the processor, or an adjuster's decision.
    adjudicated_by_adjuster: bool = False
    payment: RecordedPayment | None = None
    #: A note the API stored before it sent the update (decision, information, cancellation); its text never
    #: enters the workflow's history.
    note_id: str | None = None
    #: When the assignee's review is due (entering review, escalated, reassigned, information provided).
    review_due_at: datetime | None = None
    #: The risk screen's score (0-100), with the change that follows the screen.
    risk_score: int | None = None


class StatusRecord(BaseModel):
    """One status change of a claim, written to its status history, the audit log and the register."""

    claim_id: str
    seq: int
    status: ClaimStatus
    reason: str
    at: datetime
    actor: str
    details: StatusDetails = StatusDetails()


class RecordStatusChangesInput(BaseModel):
    """Status changes in the order they happened, written in one transaction."""

    changes: list[StatusRecord]


class RecordStatusChangesResult(BaseModel):
    #: False when every change had been recorded before (a retry).
    recorded: bool


RECORD_STATUS_CHANGES = Activity("record_status_changes", RecordStatusChangesInput, RecordStatusChangesResult)


# ---- validation and the snapshot ----------------------------------------------------------------


class ClaimFacts(BaseModel):
    """What the workflow keeps of a claim: amounts and line numbers, never patient data."""

    model_config = ConfigDict(frozen=True)

    payer_id: str
    total_charge: Decimal
    lines: list[BilledLine]
    frequency_code: FrequencyCode = FrequencyCode.ORIGINAL
    #: The original a replacement (frequency 7) or void (frequency 8) stands for; None for an original claim.
    original_claim_id: str | None = None


class ValidateAndSnapshotInput(BaseModel):
    claim_id: str
    #: The duplicate edit searches this organization's claims only.
    org_id: str
    #: The date the edits are checked on (the day the claim was received).
    today: date
    #: A valid claim's snapshot is taken at this time.
    snapshot_at: datetime
    #: Status changes to write in the same transaction (the workflow's "validating").
    records: list[StatusRecord] = []


class ValidateAndSnapshotResult(BaseModel):
    """The edits' verdict as findings (rule id, path, parameters): no message, so nothing of the claim."""

    valid: bool
    errors: list[ValidationFinding]
    warnings: list[ValidationFinding]
    facts: ClaimFacts


VALIDATE_AND_SNAPSHOT = Activity("validate_and_snapshot_claim", ValidateAndSnapshotInput, ValidateAndSnapshotResult)


# ---- lineage: the original of a replacement or void --------------------------------------------


class MarkOriginalInput(BaseModel):
    """The payer accepted a replacement or void: its original shows `outcome` (replaced or voided)."""

    #: The replacement or void claim (its register row names the original).
    claim_id: str
    outcome: ClaimStatus
    at: datetime


class MarkOriginalResult(BaseModel):
    #: False when the original showed the outcome already (a retry).
    recorded: bool
    #: The void's reason, stored as a note of the void claim, for its closing status change.
    note_id: str | None = None


MARK_ORIGINAL = Activity("mark_original_claim", MarkOriginalInput, MarkOriginalResult)


# ---- the claim's integration --------------------------------------------------------------------


class ResolveIntegrationInput(BaseModel):
    claim_id: str
    org_id: str
    payer_id: str


class ResolvedIntegration(BaseModel):
    """The integration a claim goes through, and whether it may be sent now (ids and codes only)."""

    model_config = ConfigDict(frozen=True)

    integration_id: str | None = None
    adapter: Adapter | None = None
    #: True when the payer is active and the integration exists and is enabled.
    submittable: bool = False
    #: Why it may not be sent yet (integration_not_enabled, payer_inactive); None when it may.
    refusal: str | None = None
    #: Whether the integration asks for an eligibility check before submission.
    check_eligibility: bool = False


RESOLVE_INTEGRATION = Activity("resolve_integration", ResolveIntegrationInput, ResolvedIntegration)


# ---- eligibility before submission --------------------------------------------------------------

#: The claim could not be asked about (its patient data does not fit an inquiry) or the payer refused to answer.
ELIGIBILITY_NOT_ANSWERED = "eligibility_not_answered"


class CheckEligibilityInput(BaseModel):
    claim_id: str
    #: The resolved integration's adapter; None: JSON.
    adapter: Adapter | None = None


class EligibilityCheck(BaseModel):
    """What the workflow keeps of the payer's answer: flags and field names only (the answer is in the database)."""

    model_config = ConfigDict(frozen=True)

    active: bool
    #: The claim's demographic fields the payer's record disagrees with (first_name, last_name, date_of_birth,
    #: member_id): names, never values.
    mismatches: list[str] = []


CHECK_ELIGIBILITY = Activity("check_claim_eligibility", CheckEligibilityInput, EligibilityCheck)


# ---- the processor ------------------------------------------------------------------------------


class SubmitClaimInput(BaseModel):
    claim_id: str
    idempotency_key: str
    #: The resolved integration's adapter; None: JSON.
    adapter: Adapter | None = None


class SubmissionReceipt(BaseModel):
    """The processor's answer to a submission: ids and codes only (its free text never enters the workflow)."""

    model_config = ConfigDict(frozen=True)

    payer_claim_id: str
    category: Category
    status_code: str = ""


SUBMIT_CLAIM = Activity("submit_claim", SubmitClaimInput, SubmissionReceipt)


class PollStatusInput(BaseModel):
    claim_id: str
    payer_claim_id: str
    adapter: Adapter | None = None


POLL_CLAIM_STATUS = Activity("poll_claim_status", PollStatusInput, ProcessorStatus)


class IssuePaymentInput(BaseModel):
    claim_id: str
    payer_claim_id: str
    lines: list[tuple[int, Decimal]]
    idempotency_key: str
    adapter: Adapter | None = None


class IssuePaymentResult(BaseModel):
    payment_id: str
    amount: Decimal


ISSUE_PAYMENT = Activity("issue_payment", IssuePaymentInput, IssuePaymentResult)


# ---- adjusters ----------------------------------------------------------------------------------


class AssignAdjusterInput(BaseModel):
    claim_id: str
    payer_id: str
    amount: Decimal
    escalate: bool = False
    exclude: list[str] = []
    #: What the assignment rules and skills match on besides payer and amount.
    org_id: str = ""
    claim_kind: ClaimKind = ClaimKind.ORIGINAL


class AssignAdjusterResult(BaseModel):
    adjuster_id: str | None
    supervisor: bool = False
    reason: str
    #: The assignment rule that picked the pool, and its rules' version (None: no rule matched).
    rule_id: str | None = None
    rule_version: int | None = None

    @property
    def rule(self) -> str | None:
        """`rule-id@v3`, as the claim shows it."""
        return rule_label(self.rule_id, self.rule_version) if self.rule_id and self.rule_version else None


ASSIGN_ADJUSTER = Activity("assign_adjuster", AssignAdjusterInput, AssignAdjusterResult)


# ---- the risk screen ----------------------------------------------------------------------------


class ScreenRiskInput(BaseModel):
    claim_id: str
    #: Where the claim is screened: "before_submission" or "before_auto_approval" (logged with the score).
    stage: str


class RiskScreenResult(BaseModel):
    """The claim's risk score, its reasons (rule ids, codes and counts: no PHI) and whether it goes to review."""

    model_config = ConfigDict(frozen=True)

    score: int
    reasons: list[RiskReason] = []
    threshold: int
    #: The score is at or above the threshold: the claim goes to review (never denied for it).
    held: bool


SCREEN_RISK = Activity("screen_claim_risk", ScreenRiskInput, RiskScreenResult)
