"""HTTP client for the claims processor (the sandbox or a real clearinghouse)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import httpx
from pydantic import BaseModel, ConfigDict

from activities.contracts import SubmissionReceipt
from domain.adjudication import Category, ProcessorStatus
from domain.claim import Claim


class PaymentReceipt(BaseModel):
    model_config = ConfigDict(frozen=True)

    payment_id: str
    amount: Decimal


class ProcessorRefusedError(Exception):
    """The processor answered 4xx: the request itself is wrong."""

    def __init__(self, status_code: int, detail: str) -> None:
        super().__init__(f"processor refused the request with HTTP {status_code}: {detail}")
        self.status_code = status_code


class ProcessorClient:
    """Speaks the processor's HTTP API; raises httpx errors for transient failures."""

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
        data = await self._send("POST", "/v1/claims", json=body, idempotency_key=idempotency_key)
        return SubmissionReceipt.model_validate(data)

    async def status(self, payer_claim_id: str) -> ProcessorStatus:
        response = await self._http.get(f"{self._base}/v1/claims/{payer_claim_id}/status")
        if response.status_code == httpx.codes.NOT_FOUND:
            return ProcessorStatus(
                payer_claim_id=payer_claim_id, category=Category.NOT_FOUND, message="the processor has no such claim"
            )
        return ProcessorStatus.model_validate(self._checked(response))

    async def pay(
        self, claim_id: str, payer_claim_id: str, lines: list[tuple[int, Decimal]], *, idempotency_key: str
    ) -> PaymentReceipt:
        body = {
            "claim_id": claim_id,
            "payer_claim_id": payer_claim_id,
            "amount": f"{sum((amount for _, amount in lines), Decimal('0.00')):.2f}",
            "lines": [{"line_number": n, "amount": f"{amount:.2f}"} for n, amount in lines],
        }
        data = await self._send("POST", "/v1/payments", json=body, idempotency_key=idempotency_key)
        return PaymentReceipt.model_validate(data)

    async def _send(self, method: str, path: str, *, json: dict[str, Any], idempotency_key: str) -> Any:
        response = await self._http.request(
            method, f"{self._base}{path}", json=json, headers={"Idempotency-Key": idempotency_key}
        )
        return self._checked(response)

    @staticmethod
    def _checked(response: httpx.Response) -> Any:
        if response.status_code >= httpx.codes.INTERNAL_SERVER_ERROR:
            response.raise_for_status()  # transient: the activity retries
        if response.status_code >= httpx.codes.BAD_REQUEST:
            raise ProcessorRefusedError(response.status_code, response.text[:500])
        return response.json()
