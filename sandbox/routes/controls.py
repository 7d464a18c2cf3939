"""Sandbox controls (/_sandbox/*: ledger, faults, holds, reset) and /healthz."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends

from sandbox.models import FaultSettings
from sandbox.state import SandboxState, get_state

router = APIRouter(tags=["controls"])


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    """Liveness."""
    return {"status": "ok"}


@router.get("/_sandbox/ledger")
async def ledger(claim_id: str | None = None, state: SandboxState = Depends(get_state)) -> dict[str, Any]:
    """Every counter and payer claim (optionally only those of one claim_id)."""
    return state.processor.ledger(claim_id)


@router.get("/_sandbox/faults")
async def get_faults(state: SandboxState = Depends(get_state)) -> FaultSettings:
    """The current fault settings."""
    return state.faults.settings


@router.post("/_sandbox/faults")
async def set_faults(settings: FaultSettings, state: SandboxState = Depends(get_state)) -> FaultSettings:
    """Replace the fault settings (omitted fields are off)."""
    state.faults.configure(settings)
    return state.faults.settings


@router.get("/_sandbox/holds")
async def holds(state: SandboxState = Depends(get_state)) -> dict[str, Any]:
    """The requests faults are holding now ("holding") and the last ones they held, oldest first."""
    return {"holds": state.faults.holds.snapshot()}


@router.post("/_sandbox/reset")
async def reset(state: SandboxState = Depends(get_state)) -> dict[str, str]:
    """Forget every claim, payment, counter, fault setting and hold."""
    state.processor.reset()
    state.faults.reset()
    return {"status": "reset"}
