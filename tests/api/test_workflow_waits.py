"""Waiting for Temporal: no pooled connection is held meanwhile, every wait is bounded, a client that left stops it."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import make_url, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.service import RetryConfig

from api.app import create_app
from api.auth import Role
from tests.api.test_claim_lifecycle import member
from tests.api.test_disconnect import Client as HandWrittenClient
from tests.api.test_disconnect import http_scope
from tests.support.stack import (
    Stack,
    auth,
    config_for_tests,
    running_stack,
)
from tests.support.tcp_proxy import TcpProxy

SUPERVISOR = auth(Role.SUPERVISOR, sub="carol", org=None)
PROBLEM = "application/problem+json"


def api_app(temporal: Client, sessions: async_sessionmaker[AsyncSession], **timeouts: float) -> FastAPI:
    """The API app with the given ApiConfig timeouts, on a task queue no worker polls."""
    config = config_for_tests(**timeouts)

    async def connect() -> Client:
        return temporal

    return create_app(config, connect, sessions)


@asynccontextmanager
async def api_without_worker(
    temporal: Client, sessions: async_sessionmaker[AsyncSession], **timeouts: float
) -> AsyncIterator[httpx.AsyncClient]:
    """A client of api_app(...), its lifespan running."""
    app = api_app(temporal, sessions, **timeouts)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://claimflow.test", timeout=30) as api,
    ):
        yield api


async def submit(api: httpx.AsyncClient) -> str:
    response = await api.post("/v1/claims", json=member("M"), headers=auth())
    assert response.status_code == 202, response.text
    claim_id: str = response.json()["claim_id"]
    return claim_id


async def on_carols_desk(sessions: async_sessionmaker[AsyncSession], claim_id: str) -> None:
    """Record carol (the supervisor deciding here) as the claim's adjuster, so it is hers to see while no worker
    moves it (a supervisor sees its team's claims only)."""
    async with sessions() as session:
        await session.execute(
            text("UPDATE claim SET assigned_adjuster = 'carol' WHERE claim_id = :claim_id"), {"claim_id": claim_id}
        )
        await session.commit()


async def terminate(temporal: Client, claim_id: str) -> None:
    await temporal.get_workflow_handle(f"claim-{claim_id}").terminate(reason="test cleanup")


def assert_problem(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    assert body["code"] == code
    return body


# --- no pooled connection is held while a decision's update runs -----------------------------------------------


@pytest.fixture(scope="module")
async def pool_of_five(database_url: str) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    """Five connections and no overflow; a checkout waits at most 10 s for one."""
    url = make_url(database_url).set(drivername="postgresql+psycopg")
    engine = create_async_engine(url, pool_size=5, max_overflow=0, pool_timeout=10)
    yield async_sessionmaker(engine, expire_on_commit=False)
    await engine.dispose()


@pytest.fixture(scope="module")
async def stack_on_five(
    temporal: Client, pool_of_five: async_sessionmaker[AsyncSession], sandbox_url: str
) -> AsyncIterator[Stack]:
    """The API and the worker share the one pool of five, as they do in `claimflow dev`."""
    async with running_stack(temporal, pool_of_five, sandbox_url) as running:
        yield running


async def test_twenty_decisions_at_once_on_a_pool_of_five_all_answer_200_and_close_their_claims(
    stack_on_five: Stack,
) -> None:
    stack = stack_on_five
    claim_ids = await asyncio.gather(*(stack.submit(member("DENY")) for _ in range(20)))
    # One reader at a time while the claims move, so only the decisions come at once.
    in_review = [await stack.wait_for(claim_id, "in_review", timeout=60) for claim_id in claim_ids]

    async with asyncio.timeout(60):  # a pool deadlock fails the test instead of hanging it
        responses = await asyncio.gather(
            *(
                stack.api.post(
                    f"/v1/claims/{claim['claim_id']}/decision",
                    json={"action": "approve", "note": "overturned on appeal"},
                    headers=auth(Role.ADJUSTER, sub=claim["assigned_adjuster"], org=None),
                )
                for claim in in_review
            )
        )

    assert [r.status_code for r in responses] == [200] * 20, [r.text for r in responses if r.status_code != 200]
    closed = [await stack.wait_for(claim_id, "closed", timeout=60) for claim_id in claim_ids]
    assert all(claim["payment"]["amount"] == claim["total_charge"] for claim in closed)


# --- every wait for Temporal is bounded ------------------------------------------------------------------------


async def test_decision_that_no_worker_applies_in_time_answers_504_at_the_update_timeout_saying_it_may_still_apply(
    temporal: Client, sessions: async_sessionmaker[AsyncSession]
) -> None:
    async with api_without_worker(temporal, sessions, temporal_update_timeout_seconds=0.5) as api:
        claim_id = await submit(api)
        await on_carols_desk(sessions, claim_id)
        loop = asyncio.get_running_loop()
        started = loop.time()
        response = await api.post(f"/v1/claims/{claim_id}/decision", json={"action": "approve"}, headers=SUPERVISOR)
        waited = loop.time() - started
    await terminate(temporal, claim_id)

    body = assert_problem(response, 504, "workflow_update_timeout")
    assert waited < 5
    assert "may still be applied" in body["detail"]
    assert f"GET /v1/claims/{claim_id}" in body["detail"]


@pytest.fixture
async def temporal_proxy(temporal: Client) -> AsyncIterator[TcpProxy]:
    """A TCP proxy in front of the test's Temporal server, to take it away mid-test."""
    host, port = temporal.service_client.config.target_host.rsplit(":", 1)
    proxy = TcpProxy(host, int(port))
    await proxy.start()
    yield proxy
    await proxy.stop()


async def client_through(proxy: TcpProxy, retry: RetryConfig | None = None) -> Client:
    return await Client.connect(
        f"127.0.0.1:{proxy.port}",
        data_converter=pydantic_data_converter,
        retry_config=retry or RetryConfig(),
    )


#: The client gives up on an unreachable server at once, so the API's own mapping of that failure is what is tested.
NO_RETRIES = RetryConfig(initial_interval_millis=10, max_retries=1, max_elapsed_time_millis=100)


async def test_unreachable_temporal_answers_503_with_retry_after_to_submit_and_decision_and_get_still_reads(
    temporal: Client, sessions: async_sessionmaker[AsyncSession], temporal_proxy: TcpProxy
) -> None:
    async with api_without_worker(await client_through(temporal_proxy, NO_RETRIES), sessions) as api:
        claim_id = await submit(api)
        await on_carols_desk(sessions, claim_id)
        await temporal_proxy.cut()

        decision = await api.post(f"/v1/claims/{claim_id}/decision", json={"action": "approve"}, headers=SUPERVISOR)
        submission = await api.post("/v1/claims", json=member("M"), headers=auth())
        read = await api.get(f"/v1/claims/{claim_id}", headers=auth())
    await terminate(temporal, claim_id)

    for response in (decision, submission):
        assert_problem(response, 503, "workflow_service_unavailable")
        assert response.headers["Retry-After"] == "2"
    assert "may not have reached the claim" in decision.json()["detail"]
    assert read.status_code == 200
    assert read.json()["status"] == "received"


async def test_start_timeout_bounds_the_clients_own_retries_against_an_unreachable_temporal(
    temporal: Client, sessions: async_sessionmaker[AsyncSession], temporal_proxy: TcpProxy
) -> None:
    """The client's default retries last several seconds; the API answers at its own timeout."""
    client = await client_through(temporal_proxy)
    async with api_without_worker(client, sessions, temporal_start_timeout_seconds=0.5) as api:
        await temporal_proxy.cut()
        loop = asyncio.get_running_loop()
        started = loop.time()
        response = await api.post("/v1/claims", json=member("M"), headers=auth())
        waited = loop.time() - started

    assert_problem(response, 503, "workflow_service_unavailable")
    assert response.headers["Retry-After"] == "2"
    assert waited < 3


# --- a client that left stops the wait -------------------------------------------------------------------------


async def test_decision_waiting_on_its_update_stops_when_the_client_disconnects(
    temporal: Client, sessions: async_sessionmaker[AsyncSession]
) -> None:
    """The update timeout is left at its 15 s default; the request ends within 5 s of the client leaving."""
    app = api_app(temporal, sessions)
    async with app.router.lifespan_context(app):
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://claimflow.test") as api:
            claim_id = await submit(api)
        await on_carols_desk(sessions, claim_id)
        body = json.dumps({"action": "approve"}).encode()
        headers = [(b"authorization", SUPERVISOR["Authorization"].encode()), (b"content-type", b"application/json")]
        client = HandWrittenClient()
        client.incoming.put_nowait({"type": "http.request", "body": body, "more_body": False})
        scope = http_scope(f"/v1/claims/{claim_id}/decision", "POST", headers)
        request = asyncio.create_task(app(scope, client.receive, client.send))
        await asyncio.sleep(1)  # long enough to reach the update, which no worker will apply
        assert not request.done()

        client.incoming.put_nowait({"type": "http.disconnect"})
        await asyncio.wait_for(request, 5)
    await terminate(temporal, claim_id)

    assert client.sent == []
