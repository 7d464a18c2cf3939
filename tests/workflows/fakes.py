"""Fake activities under the real activities' names, scripted per claim and recording every call.

ClaimWorkflow calls its activities by the names in activities/contracts.py, so a worker that
registers these methods runs the real workflow with no database, processor or HTTP. Each claim
follows its `Script`; every call is kept in `FakeActivities.calls`, in the order the workflow
made them, so a test can say what was submitted, paid and recorded, and how often.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, TypeVar

from pydantic import BaseModel
from temporalio import activity

from activities import contracts
from activities.contracts import (
    AssignAdjusterInput,
    AssignAdjusterResult,
    CheckEligibilityInput,
    ClaimFacts,
    EligibilityCheck,
    IssuePaymentInput,
    IssuePaymentResult,
    MarkOriginalInput,
    MarkOriginalResult,
    PollStatusInput,
    RecordStatusChangesInput,
    RecordStatusChangesResult,
    ResolvedIntegration,
    ResolveIntegrationInput,
    StatusRecord,
    SubmissionReceipt,
    SubmitClaimInput,
    ValidateAndSnapshotInput,
    ValidateAndSnapshotResult,
)
from domain.adjudication import Adjustment, Category, GroupCode, LineAdjudication, ProcessorStatus
from domain.claim import FrequencyCode
from domain.decision import BilledLine
from domain.integrations import Adapter
from domain.money import total
from domain.status import ClaimStatus
from domain.validation import ValidationFinding

InputT = TypeVar("InputT", bound=BaseModel)

#: The line the sample claim bills: one 80053 at 45.00.
CHARGE = Decimal("45.00")


def line(
    billed: Decimal, paid: Decimal, *, number: int = 1, group: GroupCode = GroupCode.CONTRACTUAL, reason: str = "45"
) -> LineAdjudication:
    """One adjudicated line; what was not paid is adjusted under `group`/`reason`."""
    adjustments = [] if paid == billed else [Adjustment(group_code=group, reason_code=reason, amount=billed - paid)]
    return LineAdjudication(line_number=number, billed=billed, allowed=paid, paid=paid, adjustments=adjustments)


def answer(category: Category, *lines: LineAdjudication) -> ProcessorStatus:
    """A processor status answer as the poll activity returns it (codes, no free text); the fake fills in the
    payer claim id it gave at submission."""
    return ProcessorStatus(payer_claim_id="", category=category, status_code="20", lines=list(lines))


#: The organization's integration for the payer: the sandbox's, enabled (what `claimflow dev` gives every org).
ENABLED = ResolvedIntegration(integration_id="sandbox", adapter=Adapter.JSON, submittable=True)
#: The X12 sandbox integration, which asks the payer about eligibility before each submission.
CHECKS_ELIGIBILITY = ResolvedIntegration(
    integration_id="sandbox-x12", adapter=Adapter.X12, submittable=True, check_eligibility=True
)
#: An integration the organization has, disabled: the claim waits in `ready`.
DISABLED = ResolvedIntegration(integration_id="sandbox", adapter=Adapter.JSON, refusal="integration_not_enabled")

PENDING = answer(Category.PENDING)
PAID_IN_FULL = answer(Category.FINALIZED_PAID, line(CHARGE, CHARGE))


@dataclass
class Gate:
    """Holds an activity until the test opens it; `entered` tells the test the activity is being held."""

    entered: asyncio.Event = field(default_factory=asyncio.Event)
    opened: asyncio.Event = field(default_factory=asyncio.Event)

    async def hold(self) -> None:
        self.entered.set()
        await self.opened.wait()

    def open(self) -> None:
        self.opened.set()


@dataclass
class Script:
    """What the validator, the processor and the assignment rules answer for one claim."""

    charges: list[Decimal] = field(default_factory=lambda: [CHARGE])
    payer_id: str = "SANDBOX"
    errors: list[ValidationFinding] = field(default_factory=list)
    warnings: list[ValidationFinding] = field(default_factory=list)
    #: What resolving the claim's integration answers, one per call in order; the last one repeats.
    integrations: list[ResolvedIntegration] = field(default_factory=lambda: [ENABLED])
    #: What the eligibility check answers (asked only where the integration says so); None: the payer is down.
    eligibility: EligibilityCheck | None = field(default_factory=lambda: EligibilityCheck(active=True))
    #: The submission receipt's category (A1 received, A7 rejected, ...).
    submission: Category = Category.RECEIVED
    #: The status answers, one per poll in order; the last one repeats.
    answers: list[ProcessorStatus] = field(default_factory=lambda: [PAID_IN_FULL])
    #: Who each assignment answers, in order (the first assignment, then each escalation); the last repeats.
    assignees: list[str | None] = field(default_factory=lambda: ["alice", "carol", "dave"])
    #: Gates that hold an activity until the test opens them: validation, submission, or the n-th poll (from 1).
    validation_gate: Gate | None = None
    submission_gate: Gate | None = None
    poll_gates: dict[int, Gate] = field(default_factory=dict)
    #: A replacement ("7") or void ("8") names its original claim; "1" names none.
    frequency_code: FrequencyCode = FrequencyCode.ORIGINAL
    original_claim_id: str | None = None
    #: The void's reason note the lineage activity finds on the new claim.
    void_note_id: str | None = None
    #: What the risk screen answers, one per screen in order; the last one repeats (the default: a clean claim).
    risk: list[contracts.RiskScreenResult] = field(
        default_factory=lambda: [contracts.RiskScreenResult(score=0, threshold=50, held=False)]
    )

    def gates(self) -> list[Gate]:
        held = [self.validation_gate, self.submission_gate, *self.poll_gates.values()]
        return [gate for gate in held if gate is not None]


@dataclass(frozen=True)
class Call:
    """One activity call as the workflow made it."""

    activity: str
    claim_id: str
    input: BaseModel


def payer_claim_id(claim_id: str) -> str:
    return f"PCN-{claim_id[:12]}"


class FakeActivities:
    """Every activity of activities/contracts.py, answering from each claim's `Script`."""

    def __init__(self) -> None:
        self.scripts: dict[str, Script] = {}
        self.calls: list[Call] = []

    def activities(self) -> list[Callable[..., Any]]:
        """The bound methods to register with a worker: one for every activity of the contract."""
        methods: list[Callable[..., Any]] = [
            self.validate_and_snapshot_claim,
            self.record_status_changes,
            self.mark_original_claim,
            self.resolve_integration,
            self.check_claim_eligibility,
            self.submit_claim,
            self.poll_claim_status,
            self.issue_payment,
            self.assign_adjuster,
            self.screen_claim_risk,
        ]
        contract = {value.name for value in vars(contracts).values() if isinstance(value, contracts.Activity)}
        assert {activity._Definition.must_from_callable(method).name for method in methods} == contract
        return methods

    def open_every_gate(self) -> None:
        for script in self.scripts.values():
            for gate in script.gates():
                gate.open()

    # ---- what the workflow asked -------------------------------------------------------------------

    def inputs(self, activity: contracts.Activity[InputT, Any], claim_id: str) -> list[InputT]:
        """The inputs of every call of `activity` for the claim, in order."""
        return [
            call.input  # type: ignore[misc]
            for call in self.calls
            if call.activity == activity.name and call.claim_id == claim_id
        ]

    def record_batches(self, claim_id: str) -> list[list[StatusRecord]]:
        """The status records the workflow wrote, one list per transaction (validation's or a record call)."""
        batches: list[list[StatusRecord]] = []
        for call in self.calls:
            if call.claim_id != claim_id:
                continue
            if isinstance(call.input, ValidateAndSnapshotInput | RecordStatusChangesInput):
                records = call.input.records if isinstance(call.input, ValidateAndSnapshotInput) else call.input.changes
                if records:
                    batches.append(list(records))
        return batches

    def status_records(self, claim_id: str) -> list[StatusRecord]:
        """The claim's status records as the database keeps them: the first write of each seq, in order.

        A local activity runs again when the workflow task that ran it is retried (the server refuses a
        completion when an update or signal came meanwhile), and the real write is keyed by claim and seq:
        a seq written again must be the same record (but for `at`, the retried task's time).
        """
        kept: dict[int, StatusRecord] = {}
        for batch in self.record_batches(claim_id):
            for record in batch:
                first = kept.setdefault(record.seq, record)
                again = record.model_copy(update={"at": first.at})
                assert again == first, f"seq {record.seq} written twice, differently: {first} then {record}"
        return list(kept.values())

    async def recorded(self, claim_id: str, status: ClaimStatus, *, within: float = 10.0) -> StatusRecord:
        """Wait until the workflow writes `status` for the claim (real time, at most `within` seconds)."""
        async with asyncio.timeout(within):
            while True:
                for record in self.status_records(claim_id):
                    if record.status is status:
                        return record
                await asyncio.sleep(0.01)

    # ---- the activities ----------------------------------------------------------------------------

    def _called(self, activity: contracts.Activity[Any, Any], claim_id: str, input: BaseModel) -> Script:
        self.calls.append(Call(activity.name, claim_id, input))
        return self.scripts[claim_id]

    @activity.defn(name=contracts.VALIDATE_AND_SNAPSHOT.name)
    async def validate_and_snapshot_claim(self, input: ValidateAndSnapshotInput) -> ValidateAndSnapshotResult:
        script = self._called(contracts.VALIDATE_AND_SNAPSHOT, input.claim_id, input)
        if script.validation_gate:
            await script.validation_gate.hold()
        lines = [BilledLine(line_number=n, charge=charge) for n, charge in enumerate(script.charges, start=1)]
        return ValidateAndSnapshotResult(
            valid=not script.errors,
            errors=script.errors,
            warnings=script.warnings,
            facts=ClaimFacts(
                payer_id=script.payer_id,
                total_charge=total(script.charges),
                lines=lines,
                frequency_code=script.frequency_code,
                original_claim_id=script.original_claim_id,
            ),
        )

    @activity.defn(name=contracts.RECORD_STATUS_CHANGES.name)
    async def record_status_changes(self, input: RecordStatusChangesInput) -> RecordStatusChangesResult:
        self._called(contracts.RECORD_STATUS_CHANGES, input.changes[0].claim_id, input)
        return RecordStatusChangesResult(recorded=True)

    @activity.defn(name=contracts.MARK_ORIGINAL.name)
    async def mark_original_claim(self, input: MarkOriginalInput) -> MarkOriginalResult:
        script = self._called(contracts.MARK_ORIGINAL, input.claim_id, input)
        return MarkOriginalResult(recorded=True, note_id=script.void_note_id)

    @activity.defn(name=contracts.RESOLVE_INTEGRATION.name)
    async def resolve_integration(self, input: ResolveIntegrationInput) -> ResolvedIntegration:
        script = self._called(contracts.RESOLVE_INTEGRATION, input.claim_id, input)
        number = len(self.inputs(contracts.RESOLVE_INTEGRATION, input.claim_id))
        return script.integrations[min(number, len(script.integrations)) - 1]

    @activity.defn(name=contracts.CHECK_ELIGIBILITY.name)
    async def check_claim_eligibility(self, input: CheckEligibilityInput) -> EligibilityCheck:
        script = self._called(contracts.CHECK_ELIGIBILITY, input.claim_id, input)
        if script.eligibility is None:
            raise ConnectionError("the payer's processor is down")  # retried, as a transport failure is
        return script.eligibility

    @activity.defn(name=contracts.SUBMIT_CLAIM.name)
    async def submit_claim(self, input: SubmitClaimInput) -> SubmissionReceipt:
        script = self._called(contracts.SUBMIT_CLAIM, input.claim_id, input)
        if script.submission_gate:
            await script.submission_gate.hold()
        return SubmissionReceipt(
            payer_claim_id=payer_claim_id(input.claim_id),
            category=script.submission,
            status_code="19",
        )

    @activity.defn(name=contracts.POLL_CLAIM_STATUS.name)
    async def poll_claim_status(self, input: PollStatusInput) -> ProcessorStatus:
        script = self._called(contracts.POLL_CLAIM_STATUS, input.claim_id, input)
        number = len(self.inputs(contracts.POLL_CLAIM_STATUS, input.claim_id))
        if gate := script.poll_gates.get(number):
            await gate.hold()
        reply = script.answers[min(number, len(script.answers)) - 1]
        return reply.model_copy(update={"payer_claim_id": input.payer_claim_id})

    @activity.defn(name=contracts.ISSUE_PAYMENT.name)
    async def issue_payment(self, input: IssuePaymentInput) -> IssuePaymentResult:
        self._called(contracts.ISSUE_PAYMENT, input.claim_id, input)
        return IssuePaymentResult(
            payment_id=f"PAY-{input.claim_id[:12]}", amount=total([amount for _, amount in input.lines])
        )

    @activity.defn(name=contracts.ASSIGN_ADJUSTER.name)
    async def assign_adjuster(self, input: AssignAdjusterInput) -> AssignAdjusterResult:
        script = self._called(contracts.ASSIGN_ADJUSTER, input.claim_id, input)
        number = len(self.inputs(contracts.ASSIGN_ADJUSTER, input.claim_id))
        chosen = script.assignees[min(number, len(script.assignees)) - 1]
        return AssignAdjusterResult(
            adjuster_id=chosen,
            supervisor=input.escalate,
            reason="escalated" if input.escalate else "assigned by the script",
        )

    @activity.defn(name=contracts.SCREEN_RISK.name)
    async def screen_claim_risk(self, input: contracts.ScreenRiskInput) -> contracts.RiskScreenResult:
        script = self._called(contracts.SCREEN_RISK, input.claim_id, input)
        number = len(self.inputs(contracts.SCREEN_RISK, input.claim_id))
        return script.risk[min(number, len(script.risk)) - 1]
