"""ClaimWorkflow's contract: its input, state, update and signal models, and the names the API uses."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

from pydantic import BaseModel, ConfigDict
from temporalio.common import SearchAttributeKey

from domain.adjudication import Category, LineAdjudication
from domain.decision import BilledLine, Decision, Recommendation
from domain.documents import DocumentType
from domain.integrations import Adapter
from domain.lineage import LineageKind
from domain.risk import RiskReason
from domain.routing import ReviewReason
from domain.status import ClaimStatus
from domain.validation import ValidationFinding
from workflows.update_signatures import UpdateSignature

WORKFLOW_NAME = "ClaimWorkflow"
STATE_QUERY = "state"
DECIDE_UPDATE = "decide"
CANCEL_UPDATE = "cancel"
PROVIDE_INFORMATION_UPDATE = "provide_information"
SUBMIT_UPDATE = "submit"
REASSIGN_UPDATE = "reassign"
PROCESSOR_NOTICE_SIGNAL = "processor_notice"

#: Typed search attributes: ids and statuses only — never patient data (they are not encrypted).
CLAIM_STATUS = SearchAttributeKey.for_keyword("ClaimStatus")
PAYER_ID = SearchAttributeKey.for_keyword("PayerId")
ASSIGNED_ADJUSTER = SearchAttributeKey.for_keyword("AssignedAdjuster")
SEARCH_ATTRIBUTES = (CLAIM_STATUS, PAYER_ID, ASSIGNED_ADJUSTER)
#: The updates that change a claim: each must be signed by the API (workflows/update_signatures.py).
SIGNED_UPDATES = frozenset({DECIDE_UPDATE, CANCEL_UPDATE, PROVIDE_INFORMATION_UPDATE, SUBMIT_UPDATE, REASSIGN_UPDATE})


def workflow_id(claim_id: str) -> str:
    return f"claim-{claim_id}"


class ClaimPolicy(BaseModel):
    """The timing and money limits a claim runs under, fixed when it starts."""

    model_config = ConfigDict(frozen=True)

    auto_approve_limit: Decimal = Decimal("1000.00")
    poll_initial: timedelta = timedelta(seconds=2)
    poll_max: timedelta = timedelta(hours=4)
    poll_deadline: timedelta = timedelta(days=30)
    review_sla: timedelta = timedelta(hours=48)
    max_escalations: int = 2
    info_deadline: timedelta = timedelta(days=30)
    #: How long the eligibility check before submission may take, retries included; then the claim goes on unchecked.
    eligibility_deadline: timedelta = timedelta(minutes=2)
    #: Continue as new after this many polls, so a claim's history stays bounded however long it waits.
    polls_per_run: int = 200


class StatusChange(BaseModel):
    model_config = ConfigDict(frozen=True)

    seq: int
    status: ClaimStatus
    at: datetime
    reason: str
    actor: str


class ClaimState(BaseModel):
    """The live state of a claim, as the workflow holds it and the `state` query returns it."""

    claim_id: str
    org_id: str
    status: ClaimStatus = ClaimStatus.RECEIVED
    status_history: list[StatusChange] = []
    payer_id: str | None = None
    total_charge: Decimal | None = None
    lines: list[BilledLine] = []
    #: Rule ids, paths and parameters; the API renders their messages from the claim in the database.
    validation_errors: list[ValidationFinding] = []
    validation_warnings: list[ValidationFinding] = []
    payer_claim_id: str | None = None
    processor_category: Category | None = None
    #: The processor's status code (277 STC); its free-text message is not kept.
    processor_status_code: str | None = None
    adjudication: list[LineAdjudication] = []
    review_reason: ReviewReason | None = None
    assigned_adjuster: str | None = None
    #: The assignment rule and rules' version that chose the assignee: `rule-id@v3`.
    assignment_rule: str | None = None
    escalations: int = 0
    review_due_at: datetime | None = None
    #: An approval above its adjuster's authority, waiting for a supervisor (two-step approval).
    recommendation: Recommendation | None = None
    #: While information is requested: the document types the answer must attach (one of each).
    information_requested: list[DocumentType] = []
    payment_id: str | None = None
    paid_amount: Decimal | None = None
    polls: int = 0
    poll_deadline_at: datetime | None = None
    next_poll_at: datetime | None = None
    #: A processor webhook said the claim moved: poll at once, not when the timer fires.
    poll_now: bool = False
    waiting_for: str = ""
    #: Set when the submission to the processor starts: from then on the processor may have the claim.
    submission_started: bool = False
    #: The integration the claim goes through (resolved after validation, again when an operator submits it).
    integration_id: str | None = None
    adapter: Adapter | None = None
    #: A replacement (frequency 7) or void (frequency 8): how it relates to its original, and the original's id.
    lineage: LineageKind | None = None
    original_claim_id: str | None = None
    #: Whether the integration asks for an eligibility check before submission.
    check_eligibility: bool = False
    #: The latest risk screen's score (0-100) and reasons (rule ids, codes and counts: no PHI); None: not screened.
    risk_score: int | None = None
    risk_reasons: list[RiskReason] = []
    #: The adjuster who approved a claim the risk screen held: it is not screened again before auto-approval.
    risk_cleared_by: str | None = None


class ClaimWorkflowInput(BaseModel):
    """Ids and policy only: the claim itself stays in the database, so no patient data enters history."""

    claim_id: str
    org_id: str
    received_at: datetime
    policy: ClaimPolicy = ClaimPolicy()
    #: Set when the workflow continues as new: where the previous run left off.
    resume: ClaimState | None = None


class ClaimWorkflowResult(BaseModel):
    claim_id: str
    status: ClaimStatus
    payer_claim_id: str | None
    paid_amount: Decimal | None


class DecideInput(BaseModel):
    """An adjuster's decision, without its note's text: the API stored the note and sends its id."""

    decision: Decision
    adjuster_id: str
    supervisor: bool = False
    authority_limit: Decimal | None = None
    note_id: str | None = None
    signature: UpdateSignature | None = None


class ReassignInput(BaseModel):
    """A supervisor hands a claim in review (or waiting for information) to another adjuster: the one named, or
    the one the assignment rules choose besides the current assignee; the reason is a note the API stored."""

    actor: str
    adjuster_id: str | None = None
    note_id: str | None = None
    signature: UpdateSignature | None = None


class CancelInput(BaseModel):
    actor: str
    note_id: str | None = None
    signature: UpdateSignature | None = None


class ProvideInformationInput(BaseModel):
    """The submitter's answer: a note the API stored, and documents of the claim (their ids, and the types the API
    found them to be)."""

    actor: str
    note_id: str | None = None
    document_ids: list[str] = []
    document_types: list[DocumentType] = []
    signature: UpdateSignature | None = None


class SubmitInput(BaseModel):
    """An operator submits a ready claim once its integration is enabled."""

    actor: str
    signature: UpdateSignature | None = None


class UpdateResult(BaseModel):
    """What an update left the claim as."""

    claim_id: str
    status: ClaimStatus
    #: Who the claim is assigned to after the update (set by decisions and reassignments).
    assigned_adjuster: str | None = None
    #: The decision was above the decider's authority: it is recorded as a recommendation for a supervisor.
    awaiting_second_approval: bool = False


class ProcessorNotice(BaseModel):
    """A processor webhook: the claim moved; poll now instead of waiting for the timer."""

    payer_claim_id: str
    category: Category | None = None
