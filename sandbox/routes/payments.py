"""Payment route: POST /v1/payments (idempotent payment issuance)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request, Response

from sandbox.models import PaymentRequest
from sandbox.routes.parsing import idempotency_key, parse_body, reply_response
from sandbox.state import SandboxState, get_state

router = APIRouter(prefix="/v1/payments", tags=["payments"])


@router.post(
    "",
    status_code=201,
    responses={
        200: {"description": "replay"},
        404: {"description": "unknown payer claim"},
        409: {"description": "key reused"},
    },
)
async def issue_payment(request: Request, state: SandboxState = Depends(get_state)) -> Response:
    """Issue a payment for a payer claim under an Idempotency-Key."""
    state.processor.count("payment_requests")
    key = idempotency_key(request)
    if isinstance(key, Response):
        return key
    parsed = await parse_body(request, PaymentRequest)
    if isinstance(parsed, Response):
        return parsed
    payment, raw = parsed
    return reply_response(state.processor.issue_payment(key, payment, raw))
