"""CORE routes: POST /core/ takes a CAQH CORE envelope carrying X12 (837P batch, 276 and 270 real time, 835 request).

The same payer as /v1/* (sandbox/processor.py, the same scenarios by member id prefix), spoken in X12 005010:
the 837P is read by the sandbox's own reader and answered with a 999 and a 277CA in one interchange (a 999 alone,
rejecting the transaction set, when the claim does not read or its scenario rejects it: REJ999…); a 276 with a 277
(each one advances the claim's scenario, as a JSON status request does); an 835 request (a 276 naming the claim)
with the claim's 835, whose payment is recorded once per payer claim (with a claim-level CAS and a PLB: PLB…).
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from fastapi import APIRouter, Depends, Request, Response
from pydantic import ValidationError

from sandbox import eligibility
from sandbox.adjudication import ProviderLevelAdjustment, claim_level_adjustment
from sandbox.models import ClaimSubmission, PaymentRequest
from sandbox.money import ZERO, format_money
from sandbox.processor import Processor
from sandbox.scenarios import scenario_for
from sandbox.state import SandboxState, get_state
from sandbox.x12_core import EnvelopeError, envelope_response, read_envelope
from sandbox.x12_reader import X12ReadError, read, read_270, read_276, read_837p
from sandbox.x12_writer import Parties, acknowledgments, eligibility_271, remittance_835, status_277

router = APIRouter(prefix="/core", tags=["core"])

#: The sandbox payers answered in X12 over this envelope (every other payer id speaks JSON at /v1/*).
X12_PAYERS = frozenset({"SANDBOX-X12"})

SUBMIT_837P = "X12_837_Request_005010X222A1"
ACKNOWLEDGMENT_999 = "X12_999_Response_005010X231A1"
STATUS_276 = "X12_276_Request_005010X212"
STATUS_277 = "X12_277_Response_005010X212"
REMITTANCE_REQUEST = "X12_835_Request_005010X221A1"
REMITTANCE_835 = "X12_835_Response_005010X221A1"
ELIGIBILITY_270 = "X12_270_Request_005010X279A1"
ELIGIBILITY_271 = "X12_271_Response_005010X279A1"


@router.post("/", responses={400: {"description": "not a CORE envelope"}, 409: {"description": "reused numbers"}})
async def core_envelope(request: Request, state: SandboxState = Depends(get_state)) -> Response:
    """One CORE envelope in, one out (multipart/form-data both ways)."""
    state.processor.count("core_requests")
    try:
        fields = read_envelope(request.headers.get("content-type", ""), await request.body())
    except EnvelopeError as exc:
        return envelope_response(400, {}, payload_type="CoreEnvelopeError", error_code=exc.code, error_message=str(exc))
    kind = fields["PayloadType"]
    try:
        match kind:
            case "X12_837_Request_005010X222A1":
                return _submit(state.processor, fields)
            case "X12_276_Request_005010X212":
                return _status(state.processor, fields)
            case "X12_835_Request_005010X221A1":
                return _remittance(state.processor, fields)
            case "X12_270_Request_005010X279A1":
                return _eligibility(state.processor, fields)
            case _:
                return envelope_response(
                    400,
                    fields,
                    payload_type="CoreEnvelopeError",
                    error_code="PayloadTypeNotSupported",
                    error_message=f"PayloadType is one of {SUBMIT_837P}, {STATUS_276}, {REMITTANCE_REQUEST}, {ELIGIBILITY_270}",
                )
    except X12ReadError as exc:
        return envelope_response(
            400, fields, payload_type="CoreEnvelopeError", error_code="PayloadError", error_message=str(exc)
        )


def _now() -> datetime:
    return datetime.now(UTC)


def _submit(processor: Processor, fields: dict[str, str]) -> Response:
    """An 837P batch: the claim is taken once per sender and interchange control number; a resend replays."""
    processor.count("submission_requests")
    interchange = read(fields["Payload"])
    parties = Parties(sandbox_id=interchange.receiver_id or "SANDBOX", submitter_id=interchange.sender_id)
    claim_in = read_837p(interchange)
    raw: dict[str, Any] = {**claim_in.submission, "x12": fields["Payload"], "x12_names": claim_in.names}

    def acknowledge(claim: dict[str, Any] | None, answer: dict[str, Any] | None) -> Response:
        payload = acknowledgments(
            parties,
            processor.next_control_number(),
            _now(),
            group_control_number=claim_in.group_control_number,
            transaction_control_number=claim_in.transaction_control_number,
            claim=claim,
            answer=answer,
            names=claim_in.names,
        )
        return envelope_response(200, fields, payload_type=ACKNOWLEDGMENT_999, payload=payload)

    try:
        claim = ClaimSubmission.model_validate(raw)
    except ValidationError:
        processor.count_rejected_transaction_set(raw.get("claim_id"))
        return acknowledge(None, None)  # a 999 rejecting the transaction set: the claim is not taken
    if scenario_for(claim.member_id).rejects_transaction_set:
        processor.count_rejected_transaction_set(claim.claim_id)
        return acknowledge(None, None)  # the scenario's 999 rejection (REJ999…): the claim is not taken
    if claim.payer_id.upper() not in X12_PAYERS:
        answer: dict[str, Any] = {"payer_claim_id": "", "category": "A3", "status_code": "116"}  # not this payer
    else:
        reply = processor.submit_claim(f"x12-837:{interchange.sender_id}:{interchange.control_number}", claim, raw)
        if reply.status_code == 409:
            return envelope_response(
                409,
                fields,
                payload_type="CoreEnvelopeError",
                error_code="DuplicateInterchange",
                error_message="this interchange control number was already used for a different interchange",
            )
        answer = json.loads(reply.body)
    return acknowledge(raw, answer)


def _status(processor: Processor, fields: dict[str, str]) -> Response:
    """A 276: the claim's scenario advances one step, and the 277 says where it is."""
    processor.count("status_requests")
    interchange = read(fields["Payload"])
    parties = Parties(sandbox_id=interchange.receiver_id or "SANDBOX", submitter_id=interchange.sender_id)
    asked = read_276(interchange)
    answer = processor.claim_status(asked.payer_claim_id)
    stored = processor.stored_claim(asked.payer_claim_id)
    payer_id = "SANDBOX-X12"
    if answer is not None and stored is not None:
        answer = {**answer, "total_charge": stored[0]["total_charge"]}
        payer_id = stored[0]["payer_id"]
    payload = status_277(
        parties, processor.next_control_number(), _now(), payer_id=payer_id, request=asked, answer=answer
    )
    return envelope_response(200, fields, payload_type=STATUS_277, payload=payload)


def _remittance(processor: Processor, fields: dict[str, str]) -> Response:
    """The 835 of a finalized claim (asked for with a 276 naming it); its payment is recorded once."""
    interchange = read(fields["Payload"])
    parties = Parties(sandbox_id=interchange.receiver_id or "SANDBOX", submitter_id=interchange.sender_id)
    asked = read_276(interchange)
    stored = processor.stored_claim(asked.payer_claim_id)
    found = processor.remittance(asked.payer_claim_id)
    if stored is None or found is None:
        return envelope_response(
            404,
            fields,
            payload_type="CoreEnvelopeError",
            error_code="NoRemittance",
            error_message="no finalized claim with this payer claim id (REF*1K): ask again once its 277 is final",
        )
    claim, _ = stored
    category, lines = found
    extras = scenario_for(claim["member_id"]).remittance_extras
    lines_paid = sum((Decimal(line["paid"]) for line in lines), ZERO)
    claim_adjustment = None if extras is None else claim_level_adjustment(extras, lines_paid)
    paid = lines_paid - (claim_adjustment.amount if claim_adjustment else ZERO)
    trace = "EFT" + hashlib.sha256(asked.payer_claim_id.encode()).hexdigest()[:12].upper()
    if paid > ZERO:
        payment = {
            "payer_claim_id": asked.payer_claim_id,
            "claim_id": claim["claim_id"],
            "amount": format_money(paid),
            "lines": []
            if claim_adjustment
            else [{"line_number": line["line_number"], "amount": line["paid"]} for line in lines],
        }
        reply = processor.issue_payment(
            f"x12-835:{asked.payer_claim_id}", PaymentRequest.model_validate(payment), payment
        )
        trace = json.loads(reply.body).get("payment_id", trace)
    payload = remittance_835(
        parties,
        processor.next_control_number(),
        _now(),
        claim=claim,
        payer_claim_id=asked.payer_claim_id,
        category=category,
        lines=lines,
        names=claim.get("x12_names", {}),
        trace_number=trace,
        claim_adjustment=claim_adjustment,
        provider_adjustment=None
        if extras is None
        else ProviderLevelAdjustment(extras.provider_reason_code, asked.payer_claim_id, extras.provider_amount),
    )
    return envelope_response(200, fields, payload_type=REMITTANCE_835, payload=payload)


def _eligibility(processor: Processor, fields: dict[str, str]) -> Response:
    """A 270 in real time: the 271 from the same eligibility scenarios as POST /v1/eligibility (by member id)."""
    processor.count("eligibility_requests")
    interchange = read(fields["Payload"])
    parties = Parties(sandbox_id=interchange.receiver_id or "SANDBOX", submitter_id=interchange.sender_id)
    asked = read_270(interchange)
    coverage = eligibility.coverage_for(asked.member_id)
    payload = eligibility_271(
        parties,
        processor.next_control_number(),
        _now(),
        inquiry=asked,
        coverage=coverage,
        on_file=eligibility.member_on_file(coverage, asked.last_name, asked.date_of_birth),
    )
    return envelope_response(200, fields, payload_type=ELIGIBILITY_271, payload=payload)
