"""Fault drills: real worker processes we can kill, and a sandbox of their own whose faults we can set."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.client import Client

from sandbox.app import SandboxConfig
from sandbox.app import create_app as create_sandbox_app
from tests.support.stack import WEBHOOK_SECRET, Stack, free_port, running_stack
from workers.servers import embedded
from workers.temporal_server import wait_for_port


@dataclass
class Drill:
    stack: Stack
    sandbox_url: str
    worker_env: dict[str, str]
    logs: Path
    workers: list[subprocess.Popen[bytes]]

    def start_worker(self) -> subprocess.Popen[bytes]:
        log = (self.logs / f"worker-{len(self.workers)}.log").open("ab")
        process = subprocess.Popen(
            [sys.executable, "-m", "workers.cli", "worker"], env=self.worker_env, stdout=log, stderr=subprocess.STDOUT
        )
        self.workers.append(process)
        return process

    @staticmethod
    def kill(process: subprocess.Popen[bytes]) -> None:
        process.send_signal(signal.SIGKILL)
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


@pytest.fixture
async def drill_sandbox() -> AsyncIterator[str]:
    port = free_port()
    server = embedded(create_sandbox_app(SandboxConfig(webhook_secret=WEBHOOK_SECRET)), "127.0.0.1", port)
    task = asyncio.create_task(server.serve())
    await wait_for_port("127.0.0.1", port, timeout=20)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    await task


@pytest.fixture
async def drill(
    temporal: Client, sessions: async_sessionmaker[AsyncSession], database_url: str, drill_sandbox: str, tmp_path: Path
) -> AsyncIterator[Drill]:
    async with running_stack(temporal, sessions, drill_sandbox, with_worker=False) as stack:
        env = {k: v for k, v in os.environ.items() if not k.startswith("CLAIMFLOW_")}
        env.update(
            CLAIMFLOW_ENVIRONMENT="test",
            CLAIMFLOW_TEMPORAL_ADDRESS=temporal.service_client.config.target_host,
            CLAIMFLOW_DATABASE_URL=database_url,
            CLAIMFLOW_PROCESSOR_URL=drill_sandbox,
            CLAIMFLOW_TASK_QUEUE=stack.task_queue,
            CLAIMFLOW_DATA_DIR=str(tmp_path),
        )
        drill = Drill(stack=stack, sandbox_url=drill_sandbox, worker_env=env, logs=tmp_path, workers=[])
        try:
            yield drill
        finally:
            for process in drill.workers:
                if process.poll() is None:
                    process.kill()
                    process.wait(timeout=10)
