"""Prometheus metrics of the API: requests by route template, method and status, their latency, and /metrics."""

from __future__ import annotations

import time
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest
from starlette.routing import Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from services.metrics import ClaimMetricsCollector

#: A request the client abandoned before any answer started (nginx's convention): the handler was cancelled.
CLIENT_CLOSED_REQUEST = 499
#: The label of a request no route matched (a 404, or one refused before routing): never its raw path.
UNMATCHED = "unmatched"


def route_template(scope: Scope) -> str:
    """The template of the route that served (or would serve) the request, e.g. /v1/claims/{claim_id}."""
    route = scope.get("route")
    if route is None:  # refused before routing (body too large, client gone): find the route it was for
        for candidate in getattr(scope.get("app"), "routes", ()):
            match, _ = candidate.matches(scope)
            if match is Match.FULL:
                route = candidate
                break
    path = getattr(route, "path", None)
    return path if isinstance(path, str) else UNMATCHED


class RequestMetrics:
    """The request counter and latency histogram, in a registry of the app's own (apps in one process stay apart)."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.requests = Counter(
            "claimflow_http_requests",
            "HTTP requests the API answered, by route template, method and status.",
            ["route", "method", "status"],
            registry=self.registry,
        )
        self.duration = Histogram(
            "claimflow_http_request_duration_seconds",
            "Time from a request's arrival to the end of its answer, by route template and method.",
            ["route", "method"],
            registry=self.registry,
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0),
        )


class RequestMetricsMiddleware:
    """Counts and times every HTTP request; labels are the route template, never the path (ids are not labels)."""

    def __init__(self, app: ASGIApp, *, metrics: RequestMetrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = CLIENT_CLOSED_REQUEST  # unless an answer starts: the client left first (the handler was cancelled)

        async def send_and_note_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, send_and_note_status)
        except Exception:
            status = 500  # what Starlette's outermost error handler answers
            raise
        finally:
            route, method = route_template(scope), scope["method"]
            self.metrics.requests.labels(route, method, str(status)).inc()
            self.metrics.duration.labels(route, method).observe(time.perf_counter() - started)


router = APIRouter(tags=["operations"])


@router.get("/metrics", include_in_schema=False)
async def metrics(request: Request) -> Response:
    """Prometheus text: the API's request metrics and the claim metrics read from the database."""
    state: Any = request.app.state
    claims: ClaimMetricsCollector | None = state.claim_metrics
    body = generate_latest(state.request_metrics.registry)
    if claims is not None:
        await claims.refresh()
        body += generate_latest(state.claim_metrics_registry)
    return Response(body, media_type=CONTENT_TYPE_LATEST)
