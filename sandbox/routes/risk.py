"""The sandbox's external risk scorer: POST /risk/score answers a score (0-100) and reason codes for a claim's lines.

Deterministic, and steered by the query string of the URL claimflow is given (CLAIMFLOW_RISK_SCORING_URL): `score`
answers that score, `delay_ms` answers that late (to exercise claimflow's timeout), `status` answers that HTTP error.
Without them, 25 points per line charged 1000.00 or more (reason `high_charge`), at most 100.
"""

from __future__ import annotations

import asyncio
from decimal import Decimal
from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict

router = APIRouter(prefix="/risk", tags=["risk"])

#: A line charged this much or more adds HIGH_CHARGE_POINTS to the default score.
HIGH_CHARGE = Decimal("1000.00")
HIGH_CHARGE_POINTS = 25


class ScoredLine(BaseModel):
    model_config = ConfigDict(extra="ignore")

    procedure_code: str
    charge: Decimal


class ScoreRequest(BaseModel):
    """What claimflow sends: ids, codes and charges (no patient data)."""

    model_config = ConfigDict(extra="ignore")

    claim_id: str
    lines: list[ScoredLine] = []


@router.post("/score", response_model=None)
async def score(
    body: ScoreRequest,
    score: Annotated[int | None, Query(ge=0, le=100)] = None,
    delay_ms: Annotated[int, Query(ge=0, le=30_000)] = 0,
    status: Annotated[int | None, Query(ge=400, le=599)] = None,
) -> dict[str, Any] | JSONResponse:
    """Score a claim's lines (see the module's docstring for the query parameters that steer the answer)."""
    if delay_ms:
        await asyncio.sleep(delay_ms / 1000)
    if status is not None:
        return JSONResponse({"error": "scorer_unavailable"}, status_code=status)
    if score is not None:
        return {"score": score, "reasons": ["sandbox_fixed"]}
    high = sum(1 for line in body.lines if line.charge >= HIGH_CHARGE)
    return {"score": min(100, high * HIGH_CHARGE_POINTS), "reasons": ["high_charge"] if high else []}
