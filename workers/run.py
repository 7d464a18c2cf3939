"""Single-process entry points for production: a worker, the API, the sandbox."""

from __future__ import annotations

import asyncio
import signal

from temporalio.client import Client

from db.engine import create_engine, create_session_factory
from domain.settings import Settings
from workers.servers import embedded
from workers.temporal_client import connect
from workers.worker import worker_from_settings

# The API and the sandbox are imported where they run, so a worker does not load FastAPI.


def _stop_event() -> asyncio.Event:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    return stop


async def run_worker(settings: Settings) -> None:
    stop = _stop_event()
    engine = create_engine(settings.effective_database_url)
    client = await connect(settings)
    async with worker_from_settings(client, create_session_factory(engine), settings) as worker:
        task = asyncio.create_task(worker.run())
        await stop.wait()
        await worker.shutdown()
        await task
    await engine.dispose()


async def run_api(settings: Settings) -> None:
    from api.app import create_app
    from workers.dev import api_config

    stop = _stop_event()
    engine = create_engine(settings.effective_database_url)

    async def client() -> Client:
        return await connect(settings)

    server = embedded(
        create_app(api_config(settings), client, create_session_factory(engine)), settings.api_host, settings.api_port
    )
    task = asyncio.create_task(server.serve())
    await stop.wait()
    server.should_exit = True
    await task
    await engine.dispose()


async def run_sandbox(settings: Settings, *, step_seconds: float) -> None:
    from sandbox.app import SandboxConfig
    from sandbox.app import create_app as create_sandbox_app

    stop = _stop_event()
    app = create_sandbox_app(
        SandboxConfig(
            data_path=settings.data_dir / "sandbox.db",
            step_seconds=step_seconds,
            webhook_secret=settings.webhook_secret,
        )
    )
    server = embedded(app, "127.0.0.1", settings.sandbox_port)
    task = asyncio.create_task(server.serve())
    await stop.wait()
    server.should_exit = True
    await task
