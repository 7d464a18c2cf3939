"""The FastAPI application: routers, error handlers, body limit, and the lifespan that holds the clients."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack, asynccontextmanager

from fastapi import FastAPI
from fastapi.routing import APIRoute
from opentelemetry.trace import TracerProvider
from prometheus_client import CollectorRegistry
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.client import Client

from api import errors, openapi
from api.deps import ApiConfig, ApiContext, token_verifier
from api.disconnect import CancelOnDisconnect
from api.document_upload import DOCUMENT_UPLOADS
from api.limits import BodySizeLimit
from api.metrics import RequestMetrics, RequestMetricsMiddleware
from api.metrics import router as metrics_router
from api.rate_limit import rate_limiter
from api.routers import (
    adjusters,
    audit,
    claims,
    codes,
    documents,
    eligibility,
    events,
    health,
    integrations,
    queues,
    subscriptions,
    webhooks,
    x12,
)
from api.routers.risk import router as risk_router
from api.tracing import RequestTracing
from api.webhook_signatures import WebhookVerifier
from domain.codes import load_icd10
from services.metrics import ClaimMetricsCollector, ClaimMetricsConfig


def operation_id(route: APIRoute) -> str:
    """Operation ids from tag and name, so generated clients read well (claims-submit_claim)."""
    return f"{route.tags[0]}-{route.name}" if route.tags else route.name


def create_app(
    config: ApiConfig,
    connect_temporal: Callable[[], Awaitable[Client]],
    sessions: async_sessionmaker[AsyncSession],
    *,
    claim_metrics: ClaimMetricsConfig | None = None,
    tracer_provider: TracerProvider | None = None,
) -> FastAPI:
    """Build the app; the lifespan connects one Temporal client for the whole process. `claim_metrics`: how /metrics
    reads the claim figures (default ClaimMetricsConfig()); `tracer_provider`: the requests' spans' (default global)."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await asyncio.to_thread(load_icd10)  # POST /v1/claims/validate needs the ICD-10-CM code set
        async with AsyncExitStack() as held:  # the eligibility exchange's HTTP client lives on this loop too
            exchange = await held.enter_async_context(config.eligibility(sessions)) if config.eligibility else None
            app.state.context = ApiContext(
                config=config, temporal=await connect_temporal(), sessions=sessions, eligibility=exchange
            )
            app.state.tokens = token_verifier(config)  # its HTTP client (OpenID Connect keys) lives on this loop
            try:
                yield
            finally:
                await app.state.tokens.aclose()

    app = FastAPI(
        title="claimflow",
        version="0.1.0",
        summary="Insurance-claim lifecycle engine: submit claims, follow them to payment, decide the ones in review.",
        lifespan=lifespan,
        generate_unique_id_function=operation_id,
        docs_url="/docs" if config.docs else None,
        redoc_url="/redoc" if config.docs else None,
        openapi_url="/openapi.json" if config.docs else None,
    )
    app.state.webhooks = WebhookVerifier(config.webhook_secret)
    app.state.request_metrics = RequestMetrics()
    app.state.claim_metrics = ClaimMetricsCollector(sessions, claim_metrics or ClaimMetricsConfig())
    app.state.claim_metrics_registry = CollectorRegistry(auto_describe=False)
    app.state.claim_metrics_registry.register(app.state.claim_metrics)
    app.state.rate_limiter = rate_limiter(
        sessions, limit=config.rate_limit, window_seconds=config.rate_limit_window_seconds
    )
    errors.install(app)
    openapi.install(app)
    app.include_router(health.router)
    app.include_router(metrics_router)
    app.include_router(claims.router)
    app.include_router(codes.router)
    app.include_router(webhooks.router)
    app.include_router(audit.router)
    app.include_router(x12.router)
    app.include_router(eligibility.router)
    app.include_router(integrations.router)
    app.include_router(queues.router)
    app.include_router(subscriptions.router)
    app.include_router(events.router)
    app.include_router(risk_router)
    app.include_router(documents.router)
    app.include_router(adjusters.router)
    # a document upload streams its file and counts it against its own limit (api/document_upload.py)
    app.add_middleware(BodySizeLimit, max_bytes=config.max_body_bytes, own_limits=DOCUMENT_UPLOADS)
    app.add_middleware(CancelOnDisconnect)  # sees the client leave whatever runs inside
    app.add_middleware(RequestMetricsMiddleware, metrics=app.state.request_metrics)  # every answer, a 413 too
    app.add_middleware(RequestTracing, provider=tracer_provider)  # outermost: the request's span holds all the rest
    return app
