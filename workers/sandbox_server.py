"""`claimflow sandbox`: the stand-in claims processor as a process of its own (a development tool)."""

from __future__ import annotations

from sandbox.app import SandboxConfig
from sandbox.app import create_app as create_sandbox_app
from workers.run import serve_until_stopped
from workers.servers import embedded
from workers.settings import Settings


async def run_sandbox(settings: Settings, *, step_seconds: float) -> None:
    app = create_sandbox_app(
        SandboxConfig(
            data_path=settings.data_dir / "sandbox.db",
            step_seconds=step_seconds,
            webhook_secret=settings.webhook_secret,
            webhook_ca_file=settings.tls_ca_file,
        )
    )
    await serve_until_stopped(embedded(app, settings.sandbox_host, settings.sandbox_port, tls=settings.sandbox_tls))
