"""Eligibility route: POST /v1/eligibility (270 in, 271 out)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends

from sandbox import eligibility
from sandbox.models import EligibilityRequest
from sandbox.state import SandboxState, get_state

router = APIRouter(prefix="/v1/eligibility", tags=["eligibility"])


@router.post("")
async def check_eligibility(body: EligibilityRequest, state: SandboxState = Depends(get_state)) -> dict[str, Any]:
    """Answer a 270-like eligibility inquiry."""
    state.processor.count("eligibility_requests")
    return eligibility.answer(body)
