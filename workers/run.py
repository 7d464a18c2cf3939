"""Single-process entry points for production: a worker, the API."""

from __future__ import annotations

import asyncio
import contextlib

from temporalio.client import Client

from db.engine import create_engine, create_session_factory
from workers.logging_setup import configure_logging
from workers.payload_codec import codec_from_settings
from workers.servers import EmbeddedServer, embedded
from workers.settings import Settings
from workers.shutdown import Shutdown
from workers.startup import load_code_sets
from workers.telemetry import flush_traces, install_tracer_provider, worker_runtime
from workers.temporal_client import connect
from workers.worker import stop_worker, worker_from_settings

# The API is imported where it runs, so a worker does not load FastAPI.


async def run_worker(settings: Settings, database_url: str) -> None:
    shutdown = Shutdown().install()
    configure_logging(settings)
    install_tracer_provider(settings, "claimflow-worker")
    engine = create_engine(database_url)
    client = await connect(settings, runtime=worker_runtime(settings))
    async with worker_from_settings(client, create_session_factory(engine), settings) as worker:
        task = asyncio.create_task(worker.run())
        await asyncio.wait([task, asyncio.create_task(shutdown.requested.wait())], return_when=asyncio.FIRST_COMPLETED)
        shutdown.request()
        await stop_worker(worker)
        with contextlib.suppress(Exception, asyncio.CancelledError):
            await asyncio.wait_for(task, 1)
    await engine.dispose()
    flush_traces()


async def run_api(settings: Settings, database_url: str) -> None:
    from api.app import create_app
    from workers.api_config import api_config, claim_metrics_config

    codec_from_settings(settings)  # missing payload keys stop the API here, in one line, not in its lifespan
    install_tracer_provider(settings, "claimflow-api")
    await asyncio.to_thread(load_code_sets)  # before the first request, as the worker does
    engine = create_engine(database_url)

    async def client() -> Client:
        return await connect(settings)

    server = embedded(
        create_app(
            api_config(settings), client, create_session_factory(engine), claim_metrics=claim_metrics_config(settings)
        ),
        settings.api_host,
        settings.api_port,
        tls=settings.api_tls,
    )
    configure_logging(settings)  # after uvicorn set up its loggers: they go through ours
    await serve_until_stopped(server)
    await engine.dispose()
    flush_traces()


async def serve_until_stopped(server: EmbeddedServer) -> None:
    """Serve until a signal (or the server itself) ends it; requests in flight get the server's grace period."""
    shutdown = Shutdown().install()
    task = asyncio.create_task(server.serve())
    await asyncio.wait([task, asyncio.create_task(shutdown.requested.wait())], return_when=asyncio.FIRST_COMPLETED)
    shutdown.request()
    server.should_exit = True
    await task
