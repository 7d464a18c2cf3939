"""create_app: builds the sandbox FastAPI application from a SandboxConfig."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from starlette.exceptions import HTTPException

from sandbox.config import SandboxConfig
from sandbox.faults import FaultInjector, FaultMiddleware
from sandbox.processor import Processor, error_body
from sandbox.routes import claims, controls, core, eligibility, payments, risk
from sandbox.routes.parsing import invalid_body, json_response
from sandbox.state import SandboxState
from sandbox.store import Store
from sandbox.webhooks import WebhookNotifier

__all__ = ["SandboxConfig", "create_app"]


def create_app(config: SandboxConfig, *, webhook_transport: httpx.AsyncBaseTransport | None = None) -> FastAPI:
    """A sandbox processor app; its lifespan runs the webhook notifier (webhook_transport is for tests)."""
    store = Store(config.data_path)
    processor = Processor(config, store)
    faults = FaultInjector(config.seed)
    notifier = WebhookNotifier(processor, config.webhook_secret, webhook_transport, ca_file=config.webhook_ca_file)
    state = SandboxState(config=config, processor=processor, faults=faults, notifier=notifier)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        await notifier.start()
        try:
            yield
        finally:
            await notifier.stop()

    app = FastAPI(
        title="claimflow sandbox processor",
        description="A clearinghouse/payer stand-in for development, tests and benchmarks.",
        lifespan=lifespan,
    )
    app.state.sandbox = state
    for module in (claims, payments, eligibility, controls, core, risk):
        app.include_router(module.router)

    @app.exception_handler(RequestValidationError)
    async def on_invalid(_request: Request, exc: RequestValidationError) -> Response:
        return invalid_body(exc.errors())

    @app.exception_handler(HTTPException)
    async def on_http_error(_request: Request, exc: HTTPException) -> Response:
        return json_response(exc.status_code, error_body("http_error", str(exc.detail)))

    app.add_middleware(FaultMiddleware, injector=faults, processor=processor)
    return app
