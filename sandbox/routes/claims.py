"""Claim routes: POST /v1/claims (idempotent submission) and GET /v1/claims/{id}/status."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request, Response

from sandbox.models import ClaimSubmission
from sandbox.processor import dumps, error_body
from sandbox.routes.parsing import idempotency_key, json_response, parse_body, reply_response
from sandbox.state import SandboxState, get_state

router = APIRouter(prefix="/v1/claims", tags=["claims"])


@router.post("", status_code=201, responses={200: {"description": "replay"}, 409: {"description": "key reused"}})
async def submit_claim(request: Request, state: SandboxState = Depends(get_state)) -> Response:
    """Submit an 837-like claim under an Idempotency-Key."""
    state.processor.count("submission_requests")
    key = idempotency_key(request)
    if isinstance(key, Response):
        return key
    parsed = await parse_body(request, ClaimSubmission)
    if isinstance(parsed, Response):
        return parsed
    claim, raw = parsed
    return reply_response(state.processor.submit_claim(key, claim, raw))


@router.get("/{payer_claim_id}/status", responses={404: {"description": "unknown payer claim"}})
async def claim_status(payer_claim_id: str, state: SandboxState = Depends(get_state)) -> Response:
    """The 277-like status of a payer claim; each request advances its scenario one step."""
    state.processor.count("status_requests")
    answer: dict[str, Any] | None = state.processor.claim_status(payer_claim_id)
    if answer is None:
        return json_response(404, error_body("unknown_payer_claim", "no payer claim with this payer_claim_id"))
    return json_response(200, dumps(answer).encode())
