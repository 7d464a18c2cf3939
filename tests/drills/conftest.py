"""Fault drills: real worker (and API) processes we can kill, and a sandbox of their own whose faults we can set."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import os
import signal
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ParamSpec, TypeVar

import httpx
import pytest
from sqlalchemy import make_url
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.api.enums.v1 import TaskQueueType
from temporalio.api.taskqueue.v1 import TaskQueue
from temporalio.api.workflowservice.v1 import DescribeTaskQueueRequest
from temporalio.client import Client

from api.app import create_app
from sandbox.app import SandboxConfig
from sandbox.app import create_app as create_sandbox_app
from tests.support.stack import (
    JWT_ISSUER,
    JWT_SECRET,
    UPDATE_SIGNING_KEY,
    WEBHOOK_SECRET,
    Stack,
    auth,
    config_for_tests,
    free_port,
    running_stack,
)
from tests.support.tcp_proxy import TcpProxy
from workers.servers import embedded
from workers.temporal_server import wait_for_port
from workers.update_keys import write_private_key

P = ParamSpec("P")
T = TypeVar("T")

DRILLS = Path(__file__).parent


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark every test under tests/drills `drill` (`pytest -m "not drill"` runs the rest). pytest calls this
    hook with the whole session's items, so it picks the ones in this folder."""
    for item in items:
        if item.path.is_relative_to(DRILLS):
            item.add_marker(pytest.mark.drill)


def within(seconds: float) -> Callable[[Callable[P, Awaitable[T]]], Callable[P, Awaitable[T]]]:
    """Fail a drill that has not finished in `seconds` (its own waits have shorter bounds; this is the backstop)."""

    def bound(drill: Callable[P, Awaitable[T]]) -> Callable[P, Awaitable[T]]:
        @functools.wraps(drill)
        async def run(*args: P.args, **kwargs: P.kwargs) -> T:
            async with asyncio.timeout(seconds):
                return await drill(*args, **kwargs)

        return run

    return bound


@dataclass
class Drill:
    stack: Stack
    sandbox_url: str
    worker_env: dict[str, str]
    logs: Path
    workers: list[subprocess.Popen[bytes]]
    #: The drill's own organization: every claim it submits, and nothing else, belongs to it.
    org: str = "org-test"
    #: The database the drill's processes use (a proxy's URL when a drill puts one in between).
    database_url: str = ""
    #: Every process a drill started (workers, APIs), killed on the way out whatever happened.
    processes: list[subprocess.Popen[bytes]] = field(default_factory=list)
    log_of: dict[int, Path] = field(default_factory=dict)

    def start_worker(self, *, traced: bool = False, **env: str) -> subprocess.Popen[bytes]:
        """A `claimflow worker` process; `traced` logs each activity start and finish (tests.support.activity_trace)."""
        module = "tests.support.activity_trace" if traced else "workers.cli"
        args = [sys.executable, "-m", module] + ([] if traced else ["worker"])
        process = self._spawn(f"worker-{len(self.workers)}", args, env)
        self.workers.append(process)
        return process

    def start_api(self, port: int, **env: str) -> subprocess.Popen[bytes]:
        """A `claimflow api` process on the drill's task queue, signing tokens like the test stack."""
        settings = {
            "CLAIMFLOW_API_PORT": str(port),
            "CLAIMFLOW_JWT_SECRET": JWT_SECRET,
            "CLAIMFLOW_JWT_ISSUER": JWT_ISSUER,
            "CLAIMFLOW_WEBHOOK_SECRET": WEBHOOK_SECRET,
            # The test stack's fast policy (tests.support.stack.FAST_POLICY), in settings' units.
            "CLAIMFLOW_POLL_INITIAL_SECONDS": "0.1",
            "CLAIMFLOW_POLL_MAX_SECONDS": "1",
            "CLAIMFLOW_POLL_DEADLINE_DAYS": str(60 / 86400),
            **env,
        }
        apis = sum(1 for p in self.processes if p not in self.workers)
        return self._spawn(f"api-{apis}", [sys.executable, "-m", "workers.cli", "api"], settings)

    async def serve_api(self, port: int, **env: str) -> subprocess.Popen[bytes]:
        """start_api, then wait until it listens."""
        process = self.start_api(port, **env)
        await wait_for_port("127.0.0.1", port, timeout=60, process=process)
        return process

    async def polling(self, *workers: subprocess.Popen[bytes], timeout: float = 60) -> None:
        """Wait until Temporal sees each worker process polling the drill's task queue (for workflow tasks:
        activity pollers may sit on partitions a describe does not report)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        wanted = {str(worker.pid) for worker in workers}
        request = DescribeTaskQueueRequest(
            namespace=self.stack.temporal.namespace,
            task_queue=TaskQueue(name=self.stack.task_queue),
            task_queue_type=TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW,
        )
        while True:
            described = await self.stack.temporal.workflow_service.describe_task_queue(request)
            seen = {poller.identity.split("@")[0] for poller in described.pollers}
            if wanted <= seen:
                return
            for worker in workers:
                if worker.poll() is not None:
                    raise AssertionError(f"worker {worker.pid} exited with {worker.returncode}: see {self.log(worker)}")
            if loop.time() > deadline:
                raise AssertionError(f"workers {wanted} are not all polling after {timeout:.0f}s: {seen}")
            await asyncio.sleep(0.2)

    def _spawn(self, name: str, args: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
        path = self.logs / f"{name}.log"
        with path.open("ab") as log:
            process = subprocess.Popen(args, env={**self.worker_env, **env}, stdout=log, stderr=subprocess.STDOUT)
        self.processes.append(process)
        self.log_of[process.pid] = path
        return process

    def log(self, process: subprocess.Popen[bytes]) -> Path:
        return self.log_of[process.pid]

    @staticmethod
    def kill(process: subprocess.Popen[bytes]) -> None:
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=10)

    def stop_all(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                process.kill()
                with contextlib.suppress(subprocess.TimeoutExpired):
                    process.wait(timeout=10)

    async def faults(self, **settings: Any) -> None:
        async with httpx.AsyncClient() as http:
            response = await http.post(f"{self.sandbox_url}/_sandbox/faults", json=settings)
            response.raise_for_status()

    async def ledger(self) -> dict[str, Any]:
        async with httpx.AsyncClient() as http:
            data: dict[str, Any] = (await http.get(f"{self.sandbox_url}/_sandbox/ledger")).json()
            return data

    async def wait_ledger(self, predicate: Any, timeout: float = 30) -> dict[str, Any]:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            ledger = await self.ledger()
            if predicate(ledger):
                return ledger
            if loop.time() > deadline:
                raise AssertionError(f"the sandbox ledger never matched: {ledger}")
            await asyncio.sleep(0.1)


def worker_env(
    temporal_address: str, database_url: str, sandbox_url: str, task_queue: str, data_dir: Path
) -> dict[str, str]:
    """The environment of a drill's processes: the test Temporal server, database, sandbox and task queue."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CLAIMFLOW_")}
    env.update(
        CLAIMFLOW_ENVIRONMENT="test",
        CLAIMFLOW_TEMPORAL_ADDRESS=temporal_address,
        CLAIMFLOW_DATABASE_URL=database_url,
        CLAIMFLOW_PROCESSOR_URL=sandbox_url,
        CLAIMFLOW_TASK_QUEUE=task_queue,
        CLAIMFLOW_DATA_DIR=str(data_dir),
        # The tests' signing key: an API process signs with it, a worker trusts its public key, like the in-process API.
        CLAIMFLOW_UPDATE_SIGNING_KEY_FILE=str(
            write_private_key(UPDATE_SIGNING_KEY, data_dir / "update-signing-key.pem")
        ),
    )
    return env


@contextlib.asynccontextmanager
async def drill_on(
    temporal: Client,
    sessions: async_sessionmaker[AsyncSession],
    database_url: str,
    sandbox_url: str,
    tmp_path: Path,
) -> AsyncIterator[Drill]:
    """An in-process API (on `sessions`) and no worker yet; the drill starts and kills its processes."""
    async with running_stack(temporal, sessions, sandbox_url, with_worker=False) as stack:
        org = f"drill-{uuid.uuid4().hex[:8]}"
        stack.org = org
        stack.headers = auth(org=org)
        env = worker_env(
            temporal.service_client.config.target_host, database_url, sandbox_url, stack.task_queue, tmp_path
        )
        drill = Drill(
            stack=stack,
            sandbox_url=sandbox_url,
            worker_env=env,
            logs=tmp_path,
            workers=[],
            org=org,
            database_url=database_url,
        )
        try:
            yield drill
        finally:
            drill.stop_all()


@contextlib.asynccontextmanager
async def served_api(temporal: Client, sessions: async_sessionmaker[AsyncSession]) -> AsyncIterator[httpx.AsyncClient]:
    """The API app in-process, answering what a server would send (an unhandled error is a 500, not raised here)."""

    async def connect() -> Client:
        return temporal

    config = config_for_tests()
    app = create_app(config, connect, sessions)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with app.router.lifespan_context(app), httpx.AsyncClient(transport=transport, base_url="http://api") as api:
        yield api


@pytest.fixture
async def drill_sandbox() -> AsyncIterator[str]:
    port = free_port()
    server = embedded(create_sandbox_app(SandboxConfig(webhook_secret=WEBHOOK_SECRET)), "127.0.0.1", port)
    # Requests held by an injected timeout would hold the shutdown; a drill's sandbox stops at once.
    server.config.timeout_graceful_shutdown = 1
    task = asyncio.create_task(server.serve())
    await wait_for_port("127.0.0.1", port, timeout=20)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    await task


@pytest.fixture
async def drill(
    temporal: Client, sessions: async_sessionmaker[AsyncSession], database_url: str, drill_sandbox: str, tmp_path: Path
) -> AsyncIterator[Drill]:
    async with drill_on(temporal, sessions, database_url, drill_sandbox, tmp_path) as drill:
        yield drill


@pytest.fixture
async def db_proxy(database_url: str) -> AsyncIterator[TcpProxy]:
    """A TCP proxy in front of the test database's PostgreSQL server (see proxied_url)."""
    url = make_url(database_url)
    proxy = TcpProxy(url.host or "127.0.0.1", url.port or 5432)
    await proxy.start()
    try:
        yield proxy
    finally:
        await proxy.stop()


def proxied_url(database_url: str, proxy: TcpProxy) -> str:
    """The same database, reached through the proxy."""
    return make_url(database_url).set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False)
