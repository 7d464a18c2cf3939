"""The rate limit per caller holds across API replicas: two apps on one database count against one limit; past it,
429 with Retry-After and problem JSON; callers without a valid token are counted by address; ended windows go."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine
from temporalio.client import Client

from api.app import create_app
from api.auth import Role
from api.deps import ApiConfig
from db.engine import create_engine, create_session_factory, postgresql_url
from db.models import RateLimitWindow
from services.rate_limits import RequestBudget, caller_key
from tests.support.stack import auth, config_for_tests

LIMIT = 5
#: An hour-long window: the few requests of a test never straddle two windows.
CONFIG = config_for_tests(
    rate_limit=LIMIT,
    rate_limit_window_seconds=3600,
)


@asynccontextmanager
async def replicas(
    n: int, database_url: str, temporal: Client, config: ApiConfig = CONFIG, address: str = "127.0.0.1"
) -> AsyncIterator[list[httpx.AsyncClient]]:
    """`n` API apps, each with its own engine (its own connection pool) on the one database, like replicas."""

    async def connect() -> Client:
        return temporal

    async with AsyncExitStack() as stack:
        clients = []
        for _ in range(n):
            engine = create_engine(database_url)
            stack.push_async_callback(engine.dispose)
            app = create_app(config, connect, create_session_factory(engine))
            await stack.enter_async_context(app.router.lifespan_context(app))
            transport = httpx.ASGITransport(app=app, client=(address, 40000))
            clients.append(
                await stack.enter_async_context(
                    httpx.AsyncClient(transport=transport, base_url="http://claimflow.test")
                )
            )
        yield clients


def caller(role: Role = Role.SUBMITTER) -> tuple[str, dict[str, str]]:
    """A fresh subject and its headers, so each test starts with an empty count."""
    sub = f"rate-{datetime.now(UTC).timestamp()}-{role.value}"
    return sub, auth(role, sub=sub, org="org-rate")


async def test_requests_split_across_two_replicas_count_against_one_limit(database_url: str, temporal: Client) -> None:
    _, headers = caller()
    async with replicas(2, database_url, temporal) as (one, two):
        statuses = [
            (await (one if n % 2 else two).get("/v1/claims", headers=headers)).status_code for n in range(LIMIT)
        ]
        assert statuses == [200] * LIMIT
        for replica in (one, two):
            refused = await replica.get("/v1/claims", headers=headers)
            assert refused.status_code == 429
            assert refused.headers["content-type"] == "application/problem+json"
            assert 1 <= int(refused.headers["Retry-After"]) <= 3600
            body = refused.json()
            assert (body["status"], body["code"]) == (429, "rate_limited")
            assert f"at most {LIMIT} per 3600 seconds" in body["detail"]


async def test_the_limit_is_per_principal_subject_and_role(database_url: str, temporal: Client) -> None:
    sub, headers = caller()
    async with replicas(1, database_url, temporal) as (api,):
        for _ in range(LIMIT + 1):
            await api.get("/v1/claims", headers=headers)
        assert (await api.get("/v1/claims", headers=headers)).status_code == 429
        other = caller()[1]
        assert (await api.get("/v1/claims", headers=other)).status_code == 200
        same_subject_as_admin = auth(Role.ADMIN, sub=sub, org=None)
        assert (await api.get("/v1/claims", headers=same_subject_as_admin)).status_code == 200


async def test_callers_without_a_valid_token_are_limited_by_address(database_url: str, temporal: Client) -> None:
    async with (
        replicas(2, database_url, temporal, address="127.0.0.71") as (one, two),
        replicas(1, database_url, temporal, address="127.0.0.72") as (elsewhere,),
    ):
        bad = {"Authorization": "Bearer not-a-token"}
        statuses = [(await (one if n % 2 else two).get("/v1/claims", headers=bad)).status_code for n in range(LIMIT)]
        assert statuses == [401] * LIMIT
        assert (await one.get("/v1/claims")).status_code == 429  # no token at all: the same address
        assert (await elsewhere.get("/v1/claims", headers=bad)).status_code == 401


async def test_without_a_limit_nothing_is_counted(
    database_url: str, temporal: Client, sessions: async_sessionmaker[AsyncSession]
) -> None:
    sub, headers = caller()
    async with replicas(1, database_url, temporal, config=replace(CONFIG, rate_limit=0)) as (api,):
        for _ in range(LIMIT + 2):
            assert (await api.get("/v1/claims", headers=headers)).status_code == 200
    async with sessions() as session:
        key = caller_key("principal", Role.SUBMITTER.value, sub)
        assert await session.scalar(select(func.count()).where(RateLimitWindow.caller == key)) == 0


async def test_ended_windows_are_purged(sessions: async_sessionmaker[AsyncSession]) -> None:
    window = timedelta(minutes=1)
    now = datetime.now(UTC)
    async with sessions.begin() as session:
        for minutes_ago in (3, 10, 60 * 24):
            session.add(RateLimitWindow(window_start=now - timedelta(minutes=minutes_ago), caller="old", requests=9))
    budget = RequestBudget(sessions, limit=10, window=window)
    spent = await budget.spend(caller_key("principal", "submitter", "purge-test"))
    assert spent.allowed
    assert 1 <= spent.retry_after_seconds <= 60
    async with sessions() as session:
        assert await session.scalar(select(func.count()).where(RateLimitWindow.caller == "old")) == 0
        oldest = await session.scalar(select(func.min(RateLimitWindow.window_start)))
        assert oldest is not None
        assert oldest >= await session.scalar(text("SELECT now() - interval '2 minutes'"))


@pytest.mark.parametrize("limit", [0, -1])
def test_a_budget_needs_a_positive_limit(sessions: async_sessionmaker[AsyncSession], limit: int) -> None:
    with pytest.raises(ValueError, match="at least 1"):
        RequestBudget(sessions, limit=limit, window=timedelta(minutes=1))


async def test_counting_leaves_the_pooled_connection_transactional(database_url: str) -> None:
    """The count runs in autocommit; the connection it used goes back to the pool with transactions on again."""
    engine = create_async_engine(postgresql_url(database_url), pool_size=1, max_overflow=0)
    try:
        sessions = create_session_factory(engine)
        await RequestBudget(sessions, limit=10, window=timedelta(minutes=1)).spend(caller_key("pool-test"))
        async with sessions() as session:
            session.add(RateLimitWindow(window_start=datetime.now(UTC), caller="rolled-back", requests=1))
            await session.flush()
            await session.rollback()
        async with sessions() as session:
            assert await session.scalar(select(func.count()).where(RateLimitWindow.caller == "rolled-back")) == 0
    finally:
        await engine.dispose()
