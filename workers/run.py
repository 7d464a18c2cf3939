"""Single-process entry points for production: a worker, the API."""

from __future__ import annotations

import asyncio
import contextlib

from temporalio.client import Client

from db.engine import create_engine, create_session_factory
from workers.payload_codec import codec_from_settings
from workers.servers import EmbeddedServer, embedded
from workers.settings import Settings
from workers.shutdown import Shutdown
from workers.startup import load_code_sets
from workers.temporal_client import connect
from workers.worker import stop_worker, worker_from_settings

# The API is imported where it runs, so a worker does not load FastAPI.


async def run_worker(settings: Settings, database_url: str) -> None:
    shutdown = Shutdown().install()
    engine = create_engine(database_url)
    client = await connect(settings)
    async with worker_from_settings(client, create_session_factory(engine), settings) as worker:
        task = asyncio.create_task(worker.run())
        await asyncio.wait([task, asyncio.create_task(shutdown.requested.wait())], return_when=asyncio.FIRST_COMPLETED)
        shutdown.request()
        await stop_worker(worker)
        with contextlib.suppress(Exception, asyncio.CancelledError):
            await asyncio.wait_for(task, 1)
    await engine.dispose()


async def run_api(settings: Settings, database_url: str) -> None:
    from api.app import create_app
    from workers.api_config import api_config

    codec_from_settings(settings)  # missing payload keys stop the API here, in one line, not in its lifespan
    await asyncio.to_thread(load_code_sets)  # before the first request, as the worker does
    engine = create_engine(database_url)

    async def client() -> Client:
        return await connect(settings)

    server = embedded(
        create_app(api_config(settings), client, create_session_factory(engine)),
        settings.api_host,
        settings.api_port,
        tls=settings.api_tls,
    )
    await serve_until_stopped(server)
    await engine.dispose()


async def serve_until_stopped(server: EmbeddedServer) -> None:
    """Serve until a signal (or the server itself) ends it; requests in flight get the server's grace period."""
    shutdown = Shutdown().install()
    task = asyncio.create_task(server.serve())
    await asyncio.wait([task, asyncio.create_task(shutdown.requested.wait())], return_when=asyncio.FIRST_COMPLETED)
    shutdown.request()
    server.should_exit = True
    await task
