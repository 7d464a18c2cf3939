"""Session-wide real parts: PostgreSQL (embedded unless CLAIMFLOW_TEST_DATABASE_URL is set), the Temporal dev server, the sandbox processor over HTTP."""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import AsyncIterator, Iterator

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment

from db.engine import create_engine, create_session_factory
from sandbox.app import SandboxConfig
from sandbox.app import create_app as create_sandbox_app
from tests.support.database import create_test_database, drop_test_database, stop_test_server
from tests.support.stack import WEBHOOK_SECRET, free_port
from workers.binaries import find_binary
from workers.servers import embedded
from workers.temporal_server import PRECISE_TIMERS, wait_for_port
from workflows.claim_contract import SEARCH_ATTRIBUTES


@pytest.fixture(scope="session")
def database_url() -> Iterator[str]:
    url = create_test_database()
    yield url
    drop_test_database(url)


@pytest.fixture(scope="session")
async def sessions(database_url: str) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    engine = create_engine(database_url)
    yield create_session_factory(engine)
    await engine.dispose()


@pytest.fixture(scope="session")
async def temporal_env() -> AsyncIterator[WorkflowEnvironment]:
    env = await WorkflowEnvironment.start_local(
        data_converter=pydantic_data_converter,
        dev_server_existing_path=str(find_binary("temporal")),
        search_attributes=SEARCH_ATTRIBUTES,
        dev_server_log_level="error",
        dev_server_extra_args=PRECISE_TIMERS,
    )
    yield env
    await env.shutdown()


@pytest.fixture(scope="session")
def temporal(temporal_env: WorkflowEnvironment) -> Client:
    return temporal_env.client


@pytest.fixture(scope="session")
async def sandbox_url() -> AsyncIterator[str]:
    """The sandbox processor on a real port, spoken to over real HTTP."""
    port = free_port()
    server = embedded(create_sandbox_app(SandboxConfig(webhook_secret=WEBHOOK_SECRET)), "127.0.0.1", port)
    task = asyncio.create_task(server.serve())
    await wait_for_port("127.0.0.1", port, timeout=20)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    await task


@pytest.hookimpl(trylast=True)
def pytest_unconfigure(config: pytest.Config) -> None:
    """Leave without CPython finalization: the SDK's Rust threads can crash it after all work is done."""
    if os.environ.get("CLAIMFLOW_PYTEST_HARD_EXIT", "1") != "1":
        return
    session = getattr(config, "_claimflow_session", None)
    if session is None:
        return  # the session never finished (a usage or internal error): let pytest exit with its own status
    status = int(session.exitstatus)
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None:
        reporter._tw.flush()  # type: ignore[attr-defined]
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(status)


@pytest.hookimpl(trylast=True)  # after the session fixtures have dropped their databases
def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    stop_test_server()
    session.config._claimflow_session = session  # type: ignore[attr-defined]
