"""`claimflow dev`: the whole stack in one command — Temporal, worker, API and sandbox processor."""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass

from rich.console import Console
from rich.table import Table
from sqlalchemy import make_url
from temporalio.client import Client
from temporalio.runtime import Runtime

from api.app import create_app
from db.engine import create_engine, create_session_factory
from sandbox.app import SandboxConfig
from sandbox.app import create_app as create_sandbox_app
from workers.api_config import api_config, claim_metrics_config
from workers.codec_server import codec_app_from_settings, token_verifier
from workers.database import Database
from workers.logging_setup import configure_logging
from workers.servers import EmbeddedServer, embedded
from workers.settings import Settings
from workers.shutdown import Shutdown
from workers.telemetry import flush_traces, install_tracer_provider, worker_metrics_address, worker_runtime
from workers.temporal_client import connect
from workers.temporal_server import temporal_dev_server, wait_for_port
from workers.worker import stop_worker, worker_from_settings


@dataclass(frozen=True)
class DevPorts:
    temporal: int
    ui: int
    api: int
    sandbox: int


def ports(settings: Settings) -> DevPorts:
    temporal_port = int(settings.temporal_address.rsplit(":", 1)[1])
    return DevPorts(temporal_port, settings.temporal_ui_port, settings.api_port, settings.sandbox_port)


async def connect_with_retry(settings: Settings, attempts: int = 50, *, runtime: Runtime | None = None) -> Client:
    for attempt in range(attempts):
        try:
            return await connect(settings, runtime=runtime)
        except RuntimeError:
            if attempt == attempts - 1:
                raise
            await asyncio.sleep(0.2)
    raise AssertionError("unreachable")


async def run_dev(settings: Settings, database: Database, console: Console) -> None:
    """Start everything, print where it is, and stop it all in order on Ctrl-C or SIGTERM (a second one: at once)."""
    data = settings.data_dir.resolve()
    p = ports(settings)
    shutdown = Shutdown().install()

    console.print(f"[bold]claimflow dev[/] — data in {data}")
    install_tracer_provider(settings, "claimflow-dev")
    await asyncio.to_thread(database.migrate)  # as the owner; the stack connects as the application's role
    engine = create_engine(database.url)
    sessions = create_session_factory(engine)
    codec = dev_codec_server(settings)  # with CLAIMFLOW_PAYLOAD_ENCRYPTION on: the UI decodes payloads through it
    async with temporal_dev_server(
        port=p.temporal,
        ui_port=p.ui,
        db_file=data / "temporal.db",
        log_file=data / "temporal.log",
        ui_codec_endpoint=codec.url if codec else None,
    ):
        runtime = worker_runtime(settings, dev=True)  # one per process: it binds the worker's metrics port
        client = await connect_with_retry(settings, runtime=runtime)
        sandbox = embedded(
            create_sandbox_app(
                SandboxConfig(data_path=data / "sandbox.db", step_seconds=2.0, webhook_secret=settings.webhook_secret)
            ),
            "127.0.0.1",
            p.sandbox,
        )

        async def shared_client() -> Client:
            return client

        app = create_app(api_config(settings), shared_client, sessions, claim_metrics=claim_metrics_config(settings))
        api = embedded(app, settings.api_host, p.api)
        configure_logging(settings)  # after uvicorn set up its loggers: they go through ours
        async with worker_from_settings(client, sessions, settings) as worker:
            tasks = [
                asyncio.create_task(sandbox.serve(), name="sandbox"),
                asyncio.create_task(api.serve(), name="api"),
                asyncio.create_task(worker.run(), name="worker"),
            ]
            if codec:
                tasks.append(asyncio.create_task(codec.server.serve(), name="codec server"))
            await wait_for_port("127.0.0.1", p.sandbox, timeout=30)
            await wait_for_port(settings.api_host, p.api, timeout=30)
            if codec:
                await wait_for_port(settings.codec_server_host, settings.codec_server_port, timeout=30)
            metrics = worker_metrics_address(settings, dev=True) if runtime else None
            console.print(
                where_things_are(
                    settings, p, database.url, codec_url=codec.url if codec else None, worker_metrics=metrics
                )
            )
            stopped = asyncio.create_task(shutdown.requested.wait())
            done, _ = await asyncio.wait([stopped, *tasks], return_when=asyncio.FIRST_COMPLETED)
            for task in done:
                if task is not stopped and task.exception():
                    console.print(f"[red]{task.get_name()} stopped: {task.exception()!r}[/]")
            shutdown.request()
            console.print("stopping: api, sandbox, worker, temporal, database …")
            api.should_exit = True
            sandbox.should_exit = True
            if codec:
                codec.server.should_exit = True
            await stop_worker(worker)
            for task in tasks:
                with contextlib.suppress(Exception, asyncio.CancelledError):
                    await asyncio.wait_for(task, 3)
            stopped.cancel()
    await engine.dispose()
    flush_traces()


@dataclass(frozen=True)
class DevCodecServer:
    server: EmbeddedServer
    url: str


def dev_codec_server(settings: Settings) -> DevCodecServer | None:
    """The codec server for the dev UI when payload encryption is on (CLAIMFLOW_PAYLOAD_ENCRYPTION=true), else None."""
    if not settings.payload_encryption_enabled:
        return None
    host, port = settings.codec_server_host, settings.codec_server_port
    app = codec_app_from_settings(settings, token_verifier(settings))
    scheme = "https" if settings.codec_server_tls else "http"
    return DevCodecServer(embedded(app, host, port, tls=settings.codec_server_tls), f"{scheme}://{host}:{port}")


def where_things_are(
    settings: Settings,
    p: DevPorts,
    database_url: str,
    *,
    codec_url: str | None = None,
    worker_metrics: str | None = None,
) -> Table:
    table = Table(title="claimflow is running", show_header=True)
    table.add_column("part")
    table.add_column("where")
    table.add_row("API", f"http://{settings.api_host}:{p.api}  (docs: http://{settings.api_host}:{p.api}/docs)")
    table.add_row("Temporal UI", f"http://127.0.0.1:{p.ui}/namespaces/{settings.temporal_namespace}/workflows")
    table.add_row("Temporal gRPC", settings.temporal_address)
    if codec_url:
        table.add_row(
            "Codec server", f"{codec_url}  (payloads are encrypted; open it and sign in with an admin token to decode)"
        )
    table.add_row("Sandbox processor", f"http://127.0.0.1:{p.sandbox}  (ledger: /_sandbox/ledger)")
    table.add_row("Database", make_url(database_url).render_as_string(hide_password=True))
    table.add_row("Worker", f"task queue '{settings.task_queue}'")
    metrics = f"API: http://{settings.api_host}:{p.api}/metrics"
    if worker_metrics:
        metrics += f"  worker (Temporal SDK): http://{worker_metrics}/metrics"
    table.add_row("Metrics", metrics)
    table.add_row("Token", "claimflow token --role submitter --org demo-lab")
    table.add_row("Stop", "Ctrl-C")
    return table
