"""The X12 processor adapter: 837P in a CORE envelope (999 + 277CA back), 276 -> 277 polling, the 835 remittance.

Each exchange is mapped to the contract the workflow already uses (SubmissionReceipt, ProcessorStatus with its
Category and LineAdjudication, PaymentReceipt). The 837P is the claim's one stored interchange
(activities/x12/interchange.py): a retried submission resends the same bytes under the same control numbers, which
the receiver recognises as a duplicate. Failures name segments, codes and HTTP statuses, never the payload.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from decimal import Decimal

import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from activities.contracts import SubmissionReceipt
from activities.integrations import with_envelope_ids, x12_of
from activities.processor_client import PaymentReceipt, ProcessorAnswerError
from activities.x12.envelope import ControlNumbers
from activities.x12.interchange import X12Integration, claim_source, stored_or_new_837p
from activities.x12.models import (
    ClaimPayment,
    ClaimStatusAnswer,
    ClaimStatusReport,
    CoverageStatus,
    EligibilityAnswer,
    ImplementationAcknowledgment,
    Remittance,
)
from activities.x12.parse_271 import parse_271
from activities.x12.parse_277 import parse_277
from activities.x12.parse_835 import parse_835
from activities.x12.parse_999 import parse_999
from activities.x12.reader import X12SyntaxError
from activities.x12.remittance_answer import payment_answer, provider_adjustments
from activities.x12.request_270 import ELIGIBILITY_270, eligibility_request
from activities.x12.request_276 import claim_status_request
from activities.x12.transport import (
    REMITTANCE_REQUEST,
    STATUS_276,
    SUBMIT_837P,
    CoreAnswer,
    CoreTransport,
    Mode,
)
from db.errors import ClaimNotFoundError
from db.records import ClaimRecord
from db.uow import UnitOfWork
from domain.adjudication import (
    FINALIZED,
    Category,
    LineAdjudication,
    ProcessorStatus,
)
from domain.claim import Claim
from domain.claim_status_codes import UnknownCategoryCodeError
from domain.eligibility import (
    Coverage,
    EligibilityInquiry,
    EligibilityResult,
    PayerAnswerError,
    PayerMember,
    mismatches,
)
from domain.integrations import Integration


class X12ProcessorAdapter:
    """Speaks X12 005010 over the CAQH CORE envelope to one processor. `integration` is the default envelope
    (CLAIMFLOW_X12_*): a claim goes out with its organization's resolved integration's ids over it
    (activities/integrations.py with_envelope_ids); an eligibility inquiry with those of the integration it is
    `bound` to."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        http: httpx.AsyncClient,
        processor_url: str,
        integration: X12Integration,
    ) -> None:
        self._sessions = sessions
        self._http = http
        self._processor_url = processor_url
        self._default = integration
        self._bound: X12Integration | None = None  # the envelope of the integration this adapter is bound to
        self._transport = CoreTransport(http, processor_url)

    def bound(self, integration: Integration | None) -> X12ProcessorAdapter:
        """This adapter for exchanges through `integration` (its envelope ids over the default)."""
        adapter = X12ProcessorAdapter(self._sessions, self._http, self._processor_url, self._default)
        adapter._bound = with_envelope_ids(self._default, integration)
        return adapter

    async def _integration_of(self, uow: UnitOfWork, record: ClaimRecord) -> X12Integration:
        """The envelope of the claim's organization's integration for its payer (as the claim was routed)."""
        if self._bound is not None:
            return self._bound
        integration = await x12_of(uow, self._default, record.org_id, record.claim.insurance.payer_id)
        return integration or self._default

    async def _exchange(
        self,
        integration: X12Integration,
        payload_type: str,
        payload: str,
        *,
        mode: Mode,
        payload_id: str | None = None,
    ) -> CoreAnswer:
        """One CORE exchange under the integration's ids (SenderID/ReceiverID as the payload's ISA06/ISA08)."""
        return await self._transport.exchange(
            payload_type,
            payload,
            mode=mode,
            payload_id=payload_id,
            sender_id=integration.envelope.sender_id,
            receiver_id=integration.envelope.receiver_id,
        )

    async def submit(
        self, claim_id: str, claim: Claim, *, idempotency_key: str, callback_url: str | None
    ) -> SubmissionReceipt:
        """Send the claim's 837P (batch); its 999 says whether the interchange was accepted, its 277CA what became
        of the claim. `callback_url` is not carried: an X12 payer is polled."""
        async with UnitOfWork(self._sessions) as uow:
            record = await uow.claims.get_record(claim_id)
            if record is None:
                raise ClaimNotFoundError(claim_id)
            integration = await self._integration_of(uow, record)
            interchange, _ = await stored_or_new_837p(uow, record, integration)
            await uow.commit()
        answer = await self._exchange(
            integration, SUBMIT_837P, interchange.body, mode="Batch", payload_id=idempotency_key
        )
        try:
            acknowledgments = parse_999(answer.payload)
            rejected = [ack for ack in acknowledgments if not ack.group_status.accepted]
            if rejected:  # the transaction set was not taken: returned unprocessable, with the 999's codes
                return SubmissionReceipt(
                    payer_claim_id="", category=Category.UNPROCESSABLE, status_code=rejection_code(rejected[0])
                )
            status = _claim_status(parse_277(answer.payload), claim.patient_control_number, "277CA")
            category = status.status.processor_category or Category.RECEIVED
        except (X12SyntaxError, UnknownCategoryCodeError) as exc:
            raise ProcessorAnswerError(f"the processor's answer to the 837P is not a valid 999/277CA: {exc}") from None
        return SubmissionReceipt(
            payer_claim_id=status.payer_claim_id, category=category, status_code=status.status.status_code
        )

    async def status(self, payer_claim_id: str, *, claim_id: str) -> ProcessorStatus:
        """A 276 answered by a 277; a finalized claim's lines come from its 835."""
        claim, request, integration = await self._status_request(claim_id, payer_claim_id)
        answer = await self._exchange(integration, STATUS_276, request, mode="RealTime")
        try:
            found = _claim_status(parse_277(answer.payload), claim.patient_control_number, "277")
            category = found.status.processor_category
        except (X12SyntaxError, UnknownCategoryCodeError) as exc:
            raise ProcessorAnswerError(f"the processor's answer to the 276 is not a valid 277: {exc}") from None
        if category is None:  # E0-E4: the payer could not answer now; the claim keeps waiting
            category = Category.PENDING
        lines: list[LineAdjudication] = []
        if category in FINALIZED:
            payment, remittance = await self._remittance(claim_id, payer_claim_id)
            lines = await self._post_remittance(claim_id, claim, remittance, payment)
        return ProcessorStatus(
            payer_claim_id=found.payer_claim_id or payer_claim_id,
            category=category,
            status_code=found.status.status_code,
            lines=lines,
        )

    async def pay(
        self, claim_id: str, payer_claim_id: str, lines: list[tuple[int, Decimal]], *, idempotency_key: str
    ) -> PaymentReceipt:
        """The payment is the payer's, made with its 835: its trace number (TRN02) and the claim's paid amount."""
        payment, remittance = await self._remittance(claim_id, payer_claim_id)
        return PaymentReceipt(payment_id=remittance.payment.trace_number, amount=payment.paid)

    async def eligibility(self, inquiry: EligibilityInquiry) -> EligibilityResult:
        """A 270 answered in real time by a 271, read for this inquiry's trace number; the payer's record of the
        member is compared with the inquiry and then dropped."""
        async with UnitOfWork(self._sessions) as uow:
            payer_name = await uow.x12.payer_name(inquiry.insurance.payer_id)
            control = ControlNumbers.from_sequence(await uow.x12.next_control_number())
            await uow.commit()
        trace = uuid.uuid4().hex
        envelope = self._bound or self._default
        request = eligibility_request(
            inquiry,
            payer_name=payer_name or inquiry.insurance.payer_id,
            trace_number=trace,
            submitter=envelope.submitter,
            envelope=envelope.envelope,
            control=control,
            created_at=datetime.now(UTC),
        )
        answer = await self._exchange(envelope, ELIGIBILITY_270, request, mode="RealTime")
        try:
            answers = parse_271(answer.payload)
        except X12SyntaxError as exc:
            raise PayerAnswerError(f"the payer's answer to the 270 is not a valid 271: {exc}") from None
        found = next((a for a in answers if a.trace_number == trace), None)
        if found is None:
            raise PayerAnswerError("the payer's 271 answers no member under the inquiry's trace number (TRN02)")
        return eligibility_result(found, inquiry)

    async def _status_request(self, claim_id: str, payer_claim_id: str) -> tuple[Claim, str, X12Integration]:
        """The claim, a 276 for it under a fresh control number, and the envelope it goes in."""
        async with UnitOfWork(self._sessions) as uow:
            record = await uow.claims.get_record(claim_id)
            if record is None:
                raise ClaimNotFoundError(claim_id)
            integration = await self._integration_of(uow, record)
            source = await claim_source(uow, record)
            control = ControlNumbers.from_sequence(await uow.x12.next_control_number())
            await uow.commit()
        request = claim_status_request(
            source,
            payer_claim_id,
            submitter=integration.submitter,
            envelope=integration.envelope,
            control=control,
            created_at=datetime.now(UTC),
        )
        return source.claim, request, integration

    async def _post_remittance(
        self, claim_id: str, claim: Claim, remittance: Remittance, payment: ClaimPayment
    ) -> list[LineAdjudication]:
        """Post the 835's payments of this claim (a reversal of it too) with their claim-level adjustments, and keep
        its PLB adjustments, in one transaction; the payment's lines as the status answer carries them. The answers'
        ids are the 835's (payer, trace number, payer claim id, CLP02): a retried poll or a redelivered 835 posts
        nothing twice, and the status change that restates these lines posts nothing (domain.ledger)."""
        numbers = line_numbers(claim)
        at = datetime.now(UTC)
        answers = [
            payment_answer(remittance, each, numbers, at=at)
            for each in remittance.claims
            if each.payer_claim_id == payment.payer_claim_id
        ]
        async with UnitOfWork(self._sessions) as uow:
            await uow.ledger.post_remittance(claim_id, answers, provider_adjustments(remittance))
            await uow.commit()
        return payment_answer(remittance, payment, numbers, at=at).lines

    async def _remittance(self, claim_id: str, payer_claim_id: str) -> tuple[ClaimPayment, Remittance]:
        """The 835 that pays (or denies) this claim: asked for with a 276 naming it."""
        _, request, integration = await self._status_request(claim_id, payer_claim_id)
        answer = await self._exchange(integration, REMITTANCE_REQUEST, request, mode="Batch")
        try:
            remittances = parse_835(answer.payload)
        except X12SyntaxError as exc:
            raise ProcessorAnswerError(f"the processor's answer to the 835 request is not a valid 835: {exc}") from None
        for remittance in remittances:
            for payment in remittance.claims:
                if payment.payer_claim_id == payer_claim_id and not payment.reversal:
                    return payment, remittance
        raise ProcessorAnswerError("the processor's 835 holds no payment for the payer claim id asked for")


def eligibility_result(answer: EligibilityAnswer, inquiry: EligibilityInquiry) -> EligibilityResult:
    """A 271's answer about one member as claimflow's eligibility result: the amounts of the network the provider
    is in (in-network when the payer does not say), the coinsurance as a percent, the mismatched fields by name."""
    person = answer.patient or answer.subscriber
    payer = PayerMember(
        first_name=person.first_name,
        last_name=person.last_name,
        date_of_birth=person.date_of_birth,
        member_id=answer.subscriber.member_id,
    )
    coverage = {
        CoverageStatus.ACTIVE: Coverage.ACTIVE,
        CoverageStatus.INACTIVE: Coverage.INACTIVE,
        CoverageStatus.UNKNOWN: Coverage.UNKNOWN,
    }[answer.coverage]
    amounts = answer.out_of_network_benefits if answer.in_network is False else answer.in_network_benefits
    rate = amounts.coinsurance_rate
    result = EligibilityResult(
        coverage=coverage,
        plan=answer.plan_name or None,
        copay=amounts.copay,
        coinsurance_percent=None if rate is None else rate * 100,
        deductible=amounts.deductible,
        deductible_remaining=amounts.deductible_remaining,
        out_of_pocket_remaining=amounts.out_of_pocket_remaining,
        in_network=answer.in_network,
        prior_authorization_required=answer.prior_authorization_required,
        mismatches=mismatches(inquiry, payer),
    )
    return result if result.active else result.without_benefits()


def rejection_code(acknowledgment: ImplementationAcknowledgment) -> str:
    """A 999 rejection in a few characters a biller reads: the first rejected set's IK5 and its syntax error codes
    (IK5*R*5), else the group's AK9."""
    rejected = next((s for s in acknowledgment.transaction_sets if not s.status.accepted), None)
    if rejected is not None:
        return "*".join(["IK5", rejected.status.value, *rejected.syntax_error_codes])
    return "*".join(["AK9", acknowledgment.group_status.value, *acknowledgment.group_error_codes])


def _claim_status(reports: list[ClaimStatusReport], patient_control_number: str, what: str) -> ClaimStatusAnswer:
    """The one claim status of a 277CA or 277 answering for this patient control number."""
    for report in reports:
        for answer in report.claims:
            if answer.patient_control_number == patient_control_number:
                return answer
    raise ProcessorAnswerError(f"the processor's {what} says nothing about the claim that was sent")


def line_adjudications(remittance: Remittance, payment: ClaimPayment, claim: Claim) -> list[LineAdjudication]:
    """The 835's service lines as claimflow's line adjudication (the ledger's own reading of them), matched to the
    claim's lines by their line control number (REF*6R), else by position."""
    return payment_answer(remittance, payment, line_numbers(claim), at=datetime.now(UTC)).lines


def line_numbers(claim: Claim) -> dict[str, int]:
    """The claim's line number of each line control number (REF*6R), the key an 835 names its lines by."""
    return {line.line_control_number: n for n, line in enumerate(claim.lines, 1) if line.line_control_number}
