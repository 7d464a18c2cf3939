"""Liveness and readiness."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from sqlalchemy import text

from api import workflow_calls
from api.deps import ContextDep

router = APIRouter(tags=["health"])


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    """The process is up."""
    return {"status": "ok"}


@router.get("/readyz")
async def readyz(context: ContextDep) -> JSONResponse:
    """Temporal and the database both answer."""
    checks: dict[str, str] = {}
    try:
        await workflow_calls.check_health(context)
        checks["temporal"] = "ok"
    except Exception as exc:
        checks["temporal"] = f"unavailable: {type(exc).__name__}"
    try:
        async with context.sessions() as session:
            await session.execute(text("SELECT 1"))
        checks["database"] = "ok"
    except Exception as exc:
        checks["database"] = f"unavailable: {type(exc).__name__}"
    ready = all(v == "ok" for v in checks.values())
    return JSONResponse(
        {"status": "ready" if ready else "not_ready", "checks": checks}, status_code=200 if ready else 503
    )
