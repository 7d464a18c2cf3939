"""The drill sandbox's holds (GET /_sandbox/holds): the requests a fault is holding, so a drill acts while one is held."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx

from tests.drills.conftest import Drill


async def sandbox_holds(drill: Drill) -> list[dict[str, Any]]:
    """Every hold the sandbox keeps, oldest first."""
    async with httpx.AsyncClient() as http:
        response = await http.get(f"{drill.sandbox_url}/_sandbox/holds")
        response.raise_for_status()
        holds: list[dict[str, Any]] = response.json()["holds"]
        return holds


async def wait_hold(drill: Drill, state: str, *, timeout: float = 30, **match: object) -> dict[str, Any]:
    """The first hold in `state` whose fields equal `match` (fault, endpoint, idempotency_key, id...), waiting for it."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        holds = await sandbox_holds(drill)
        for hold in holds:
            if hold["state"] == state and all(hold.get(k) == v for k, v in match.items()):
                return hold
        if loop.time() > deadline:
            raise AssertionError(f"no {state} hold matching {match} after {timeout:.0f}s: {holds}")
        await asyncio.sleep(0.05)


async def hold_now(drill: Drill, hold_id: int) -> dict[str, Any]:
    """The hold `hold_id` as it is now."""
    [hold] = [h for h in await sandbox_holds(drill) if h["id"] == hold_id]
    return hold
