"""HTTP client for the claims processor (the sandbox or a real clearinghouse).

Its failures say what happened in our own words and HTTP status codes only: the processor's bodies
and free text may echo the claim (a patient's name, a diagnosis), and a failure's message ends up
in the workflow's history, in logs and on spans. They are raised `from None`, so no library
exception carrying a body travels along as their cause.
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any, Protocol, TypeVar

import httpx
from pydantic import BaseModel, ConfigDict, ValidationError

from activities.contracts import SubmissionReceipt
from domain.adjudication import Category, ProcessorStatus
from domain.claim import Claim
from domain.eligibility import Coverage, DemographicField, EligibilityInquiry, EligibilityResult
from domain.integrations import Integration


class PaymentReceipt(BaseModel):
    model_config = ConfigDict(frozen=True)

    payment_id: str
    amount: Decimal


AnswerT = TypeVar("AnswerT", bound=BaseModel)

#: A processor status code worth keeping (a 277 STC code such as "20"); anything longer is not a code.
_STATUS_CODE = re.compile(r"[A-Za-z0-9:._-]{1,16}")


class ProcessorRefusedError(Exception):
    """The processor answered 4xx: the request itself is wrong. Its body is not kept."""

    def __init__(self, status_code: int, what: str) -> None:
        super().__init__(f"the processor refused the {what} with HTTP {status_code}")
        self.status_code = status_code


class ProcessorUnavailableError(Exception):
    """The processor answered 5xx: transient, the activity retries."""


class ProcessorAnswerError(Exception):
    """The processor's answer is not what its API promises (not JSON, or a field missing or wrong)."""


class ProcessorAdapter(Protocol):
    """What the processor activities ask of a processor, whatever it speaks (JSON here, X12 in x12_adapter.py)."""

    async def submit(
        self, claim_id: str, claim: Claim, *, idempotency_key: str, callback_url: str | None
    ) -> SubmissionReceipt: ...

    async def status(self, payer_claim_id: str, *, claim_id: str) -> ProcessorStatus: ...

    async def pay(
        self, claim_id: str, payer_claim_id: str, lines: list[tuple[int, Decimal]], *, idempotency_key: str
    ) -> PaymentReceipt: ...

    async def eligibility(self, inquiry: EligibilityInquiry) -> EligibilityResult: ...

    def bound(self, integration: Integration | None) -> ProcessorAdapter:
        """This adapter for exchanges through `integration` (X12: addressed with its envelope ids)."""
        ...


class ProcessorClient:
    """The JSON adapter: speaks the processor's HTTP API. A 4xx is ProcessorRefusedError (final), a 5xx ProcessorUnavailableError and
    a transport failure httpx's own error (both retried), a malformed answer ProcessorAnswerError."""

    def __init__(self, http: httpx.AsyncClient, base_url: str) -> None:
        self._http = http
        self._base = base_url.rstrip("/")

    async def submit(
        self, claim_id: str, claim: Claim, *, idempotency_key: str, callback_url: str | None
    ) -> SubmissionReceipt:
        body: dict[str, Any] = {
            "claim_id": claim_id,
            "patient_control_number": claim.patient_control_number,
            "payer_id": claim.insurance.payer_id,
            "member_id": claim.insurance.member_id,
            "total_charge": f"{claim.total_charge:.2f}",
            "frequency_code": claim.frequency_code.value,
            "original_payer_claim_id": claim.original_payer_claim_id,
            "billing_provider_npi": claim.billing_provider.npi,
            "diagnosis_codes": claim.diagnosis_codes,
            "lines": [
                {
                    "line_number": n,
                    "procedure_code": line.procedure_code,
                    "modifiers": line.modifiers,
                    "charge": f"{line.charge:.2f}",
                    "units": line.units,
                    "service_date": line.service_date.isoformat(),
                    "diagnosis_pointers": line.diagnosis_pointers,
                }
                for n, line in enumerate(claim.lines, start=1)
            ],
            "callback_url": callback_url,
        }
        response = await self._send("/v1/claims", "submission", body, idempotency_key)
        receipt = _answer(SubmissionReceipt, response, "submission")
        return receipt.model_copy(update={"status_code": _status_code(receipt.status_code)})

    async def status(self, payer_claim_id: str, *, claim_id: str = "") -> ProcessorStatus:
        """The claim's status, with the 277 codes and the 835 lines; the processor's free-text message is dropped."""
        response = await self._request(
            "GET", f"/v1/claims/{payer_claim_id}/status", what="status request", unknown_is_an_answer=True
        )
        if response.status_code == httpx.codes.NOT_FOUND:
            return ProcessorStatus(payer_claim_id=payer_claim_id, category=Category.NOT_FOUND)
        answer = _answer(ProcessorStatus, response, "status request")
        return answer.model_copy(update={"message": "", "status_code": _status_code(answer.status_code)})

    async def pay(
        self, claim_id: str, payer_claim_id: str, lines: list[tuple[int, Decimal]], *, idempotency_key: str
    ) -> PaymentReceipt:
        body = {
            "claim_id": claim_id,
            "payer_claim_id": payer_claim_id,
            "amount": f"{sum((amount for _, amount in lines), Decimal('0.00')):.2f}",
            "lines": [{"line_number": n, "amount": f"{amount:.2f}"} for n, amount in lines],
        }
        response = await self._send("/v1/payments", "payment", body, idempotency_key)
        return _answer(PaymentReceipt, response, "payment")

    def bound(self, integration: Integration | None) -> ProcessorClient:
        """The same client: the JSON API carries no envelope ids."""
        return self

    async def eligibility(self, inquiry: EligibilityInquiry) -> EligibilityResult:
        """The processor's JSON eligibility inquiry (a 270's fields in, a 271's answer out); it reports the mismatched
        fields by name, never the values it holds."""
        body = {
            "payer_id": inquiry.insurance.payer_id,
            "provider_npi": inquiry.provider.npi,
            "member_id": inquiry.insurance.member_id,
            "first_name": inquiry.patient.first_name,
            "last_name": inquiry.patient.last_name,
            "date_of_birth": inquiry.patient.date_of_birth.isoformat(),
            "service_type": inquiry.service_type_code,
        }
        response = await self._request("POST", "/v1/eligibility", what="eligibility inquiry", json=body)
        answer = _answer(_JsonEligibility, response, "eligibility inquiry")
        known = {field.value for field in DemographicField}
        result = EligibilityResult(
            coverage=Coverage.ACTIVE if answer.active else Coverage.INACTIVE,
            plan=answer.plan or None,
            copay=answer.copay,
            coinsurance_percent=answer.coinsurance_percent,
            deductible=answer.deductible,
            deductible_remaining=answer.deductible_remaining,
            out_of_pocket_remaining=answer.out_of_pocket_remaining,
            in_network=answer.in_network,
            prior_authorization_required=answer.prior_authorization_required,
            mismatches=[DemographicField(name) for name in answer.mismatches if name in known],
        )
        return result if result.active else result.without_benefits()

    async def _send(self, path: str, what: str, body: dict[str, Any], idempotency_key: str) -> httpx.Response:
        """A POST that changes something at the processor, made idempotent by its key."""
        return await self._request("POST", path, what=what, json=body, headers={"Idempotency-Key": idempotency_key})

    async def _request(
        self, method: str, path: str, *, what: str, unknown_is_an_answer: bool = False, **kwargs: Any
    ) -> httpx.Response:
        """One request; a 5xx is ProcessorUnavailableError, a 4xx ProcessorRefusedError (but a 404 when the
        caller takes "unknown" as an answer).

        A transport failure (connection, TLS, timeout) stays httpx's own error, retried too: its text is about
        the connection (a refused port, an unknown certificate authority) and never carries an answer.
        """
        response = await self._http.request(method, f"{self._base}{path}", **kwargs)
        if response.status_code >= httpx.codes.INTERNAL_SERVER_ERROR:
            raise ProcessorUnavailableError(f"the processor answered the {what} with HTTP {response.status_code}")
        unknown = unknown_is_an_answer and response.status_code == httpx.codes.NOT_FOUND
        if response.status_code >= httpx.codes.BAD_REQUEST and not unknown:
            raise ProcessorRefusedError(response.status_code, what)
        return response


class _JsonEligibility(BaseModel):
    """The processor's JSON eligibility answer."""

    active: bool
    plan: str = ""
    copay: Decimal | None = None
    coinsurance_percent: Decimal | None = None
    deductible: Decimal | None = None
    deductible_remaining: Decimal | None = None
    out_of_pocket_remaining: Decimal | None = None
    in_network: bool | None = None
    prior_authorization_required: bool | None = None
    mismatches: list[str] = []


def _answer(model: type[AnswerT], response: httpx.Response, what: str) -> AnswerT:
    """The answer's body as the model; what is wrong with it named by field and error type, never by value."""
    try:
        return model.model_validate_json(response.content)
    except ValidationError as exc:
        wrong = ", ".join(sorted({f"{'.'.join(map(str, e['loc'])) or 'body'} ({e['type']})" for e in exc.errors()}))
        raise ProcessorAnswerError(f"the processor's answer to the {what} is not valid: {wrong}") from None


def _status_code(code: str) -> str:
    """A status code as the processor sent it if it looks like one; anything else (free text) is dropped."""
    return code if _STATUS_CODE.fullmatch(code) else ""
