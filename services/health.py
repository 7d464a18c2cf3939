"""Readiness: whether Temporal and the database both answer."""

from __future__ import annotations

from sqlalchemy import text

from services import claim_workflows
from services.context import ServiceContext


async def readiness(context: ServiceContext) -> dict[str, str]:
    """Each dependency's state: "ok", or "unavailable: <error>"."""
    checks: dict[str, str] = {}
    try:
        await claim_workflows.check_health(context)
        checks["temporal"] = "ok"
    except Exception as exc:
        checks["temporal"] = f"unavailable: {type(exc).__name__}"
    try:
        async with context.sessions() as session:
            await session.execute(text("SELECT 1"))
        checks["database"] = "ok"
    except Exception as exc:
        checks["database"] = f"unavailable: {type(exc).__name__}"
    return checks
