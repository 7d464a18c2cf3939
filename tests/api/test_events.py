"""Server-sent events over a real socket (the API served by uvicorn, the module's worker running claims): a claim's
whole life, a resume with Last-Event-ID, and an organization's stream that shows none of another's claims."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from temporalio.client import Client

from api.app import create_app
from tests.api.test_claim_lifecycle import member
from tests.support.served import served
from tests.support.stack import Stack, auth, config_for_tests

CLEAN_LIFE = ["received", "validating", "submitted", "pending", "approved", "paid", "closed"]


@pytest.fixture
async def api_url(stack: Stack) -> AsyncIterator[str]:
    """The API (its own app, on the stack's task queue, so the stack's worker runs its claims) behind a socket."""

    async def connect() -> Client:
        return stack.temporal

    app = create_app(config_for_tests(task_queue=stack.task_queue), connect, stack.sessions)
    async with served(app) as base_url:
        yield base_url


async def read_events(
    client: httpx.AsyncClient, path: str, headers: dict[str, str], *, until_status: str
) -> list[tuple[str, dict[str, Any]]]:
    """(id, data) of each event of the stream until one with `until_status`."""
    found: list[tuple[str, dict[str, Any]]] = []
    async with asyncio.timeout(30), client.stream("GET", path, headers=headers) as response:
        assert response.status_code == 200, await response.aread()
        assert response.headers["content-type"].startswith("text/event-stream")
        event_id = ""
        async for line in response.aiter_lines():
            if line.startswith("id: "):
                event_id = line.removeprefix("id: ")
            elif line.startswith("data: "):
                data = json.loads(line.removeprefix("data: "))
                found.append((event_id, data))
                if data["status"] == until_status:
                    return found
    raise AssertionError(f"the stream ended before {until_status}: {found}")


async def test_a_claims_stream_shows_its_whole_life_and_resumes_after_the_last_event_id(
    stack: Stack, api_url: str
) -> None:
    claim_id = await stack.submit(member("M"))
    await stack.wait_for(claim_id, "closed")
    async with httpx.AsyncClient(base_url=api_url, timeout=30) as client:
        path = f"/v1/claims/{claim_id}/events"
        events = await read_events(client, path, stack.headers, until_status="closed")
        assert [data["status"] for _, data in events] == CLEAN_LIFE
        assert [data["id"] for _, data in events] == [event_id for event_id, _ in events]
        resumed = await read_events(
            client, path, {**stack.headers, "Last-Event-ID": events[2][0]}, until_status="closed"
        )
        assert [data["status"] for _, data in resumed] == CLEAN_LIFE[3:]
        other = await client.get(path, headers=auth(org="org-other"))
        assert other.status_code == 404
        bad = await client.get(path, headers={**stack.headers, "Last-Event-ID": "not-a-position"})
        assert bad.status_code == 400


async def test_an_organizations_stream_shows_its_claims_as_they_move_and_no_one_elses(
    stack: Stack, api_url: str
) -> None:
    """The stream opens first (from now on), then this organization and another each submit a claim: the stream
    shows this one's whole life and nothing of the other's."""
    mine: list[str] = []
    async with httpx.AsyncClient(base_url=api_url, timeout=30) as client:

        async def watch() -> list[tuple[str, dict[str, Any]]]:
            found: list[tuple[str, dict[str, Any]]] = []
            async with asyncio.timeout(30), client.stream("GET", "/v1/events", headers=stack.headers) as response:
                assert response.status_code == 200
                async for line in response.aiter_lines():
                    if line.startswith("data: "):
                        data = json.loads(line.removeprefix("data: "))
                        found.append(("", data))
                        if mine and data["claim_id"] == mine[0] and data["status"] == "closed":
                            return found
            raise AssertionError(found)

        watching = asyncio.create_task(watch())
        await asyncio.sleep(0.5)  # the stream is open: its position is taken when it opens
        response = await stack.api.post("/v1/claims", json=member("M"), headers=auth(org="org-elsewhere"))
        assert response.status_code == 202, response.text
        theirs = response.json()["claim_id"]
        mine.append(await stack.submit(member("M")))
        events = await watching
    assert theirs not in {data["claim_id"] for _, data in events}
    assert [data["status"] for _, data in events if data["claim_id"] == mine[0]] == CLEAN_LIFE
