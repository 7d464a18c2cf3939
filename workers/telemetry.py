"""Telemetry: OpenTelemetry traces (none, console, OTLP), the HTTP client span, and the worker's Temporal metrics."""

from __future__ import annotations

import logging
import os
from typing import Any

import httpx
from opentelemetry import propagate, trace
from opentelemetry.sdk.resources import SERVICE_NAME, Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, ConsoleSpanExporter, SpanExporter
from opentelemetry.trace import SpanKind, Status, StatusCode
from temporalio.client import Interceptor
from temporalio.contrib.opentelemetry import TracingInterceptor
from temporalio.runtime import PrometheusConfig, Runtime, TelemetryConfig

from workers.settings import ConfigurationError, Settings

log = logging.getLogger(__name__)


def tracing(exporter: str, provider: TracerProvider | None = None) -> list[Interceptor]:
    """Client interceptors (workers built from the client inherit them).

    `exporter` is `none` (spans are created but not exported: cheap, and context still flows
    between the API, the workflow and its activities), `console` (spans printed as JSON) or `otlp`
    (the provider install_tracer_provider set up). Spans carry ids and names only — no claim data is
    put on them — and a failed span's status is the failure's type and message, which are ours: the
    claim worker rewrites any library's exception text (workers/activity_failures.py) and the
    processor client keeps the processor's bodies out.
    `provider` replaces the global tracer provider (tests export to memory through it).
    """
    if provider is not None:
        return [TracingInterceptor(provider.get_tracer(__name__))]
    if exporter == "console" and not isinstance(trace.get_tracer_provider(), TracerProvider):
        install_provider(ConsoleSpanExporter(), "claimflow")
    return [TracingInterceptor()]


def install_tracer_provider(settings: Settings, service: str) -> None:
    """Make the process's global tracer provider export as CLAIMFLOW_TRACE_EXPORTER says (once per process).

    `service` names the process (`claimflow-api`, `claimflow-worker`) unless OTEL_SERVICE_NAME does.
    """
    if settings.trace_exporter == "none" or isinstance(trace.get_tracer_provider(), TracerProvider):
        return
    install_provider(span_exporter(settings), service)


def install_provider(exporter: SpanExporter, service: str) -> TracerProvider:
    resource = Resource.create({} if os.environ.get("OTEL_SERVICE_NAME") else {SERVICE_NAME: service})
    provider = TracerProvider(resource=resource)
    provider.add_span_processor(BatchSpanProcessor(exporter))
    trace.set_tracer_provider(provider)
    return provider


def span_exporter(settings: Settings) -> SpanExporter:
    """The exporter CLAIMFLOW_TRACE_EXPORTER names, with the CLAIMFLOW_TRACE_OTLP_* settings."""
    if settings.trace_exporter == "console":
        return ConsoleSpanExporter()
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

    return OTLPSpanExporter(
        endpoint=settings.trace_otlp_endpoint or None,
        headers={name: value.get_secret_value() for name, value in settings.trace_otlp_headers.items()} or None,
        timeout=settings.trace_otlp_timeout_seconds,
    )


def flush_traces() -> None:
    """Export the spans still buffered and stop exporting (at the end of a process, which leaves with os._exit)."""
    provider = trace.get_tracer_provider()
    if isinstance(provider, TracerProvider):
        provider.shutdown()


class TracedTransport(httpx.AsyncBaseTransport):
    """An httpx transport that puts each request in a client span and sends its context on (W3C traceparent).

    The span names the method, host and path (ids at most; our URLs carry no query data); never a body.
    """

    def __init__(self, inner: httpx.AsyncBaseTransport, provider: trace.TracerProvider | None = None) -> None:
        self._inner = inner
        self._tracer = trace.get_tracer(__name__, tracer_provider=provider)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        url = request.url
        attributes: dict[str, Any] = {
            "http.request.method": request.method,
            "server.address": url.host,
            "server.port": url.port or (443 if url.scheme == "https" else 80),
            "url.scheme": url.scheme,
            "url.path": url.path,
        }
        with self._tracer.start_as_current_span(
            request.method, kind=SpanKind.CLIENT, attributes=attributes, record_exception=False
        ) as span:
            propagate.inject(request.headers)
            try:
                response = await self._inner.handle_async_request(request)
            except Exception as exc:
                span.set_attribute("error.type", type(exc).__qualname__)
                span.set_status(Status(StatusCode.ERROR, type(exc).__qualname__))
                raise
            span.set_attribute("http.response.status_code", response.status_code)
            if response.status_code >= httpx.codes.INTERNAL_SERVER_ERROR:
                span.set_status(Status(StatusCode.ERROR, f"HTTP {response.status_code}"))
            return response

    async def aclose(self) -> None:
        await self._inner.aclose()


def traced_client(
    *, timeout: float, verify: Any = True, provider: trace.TracerProvider | None = None
) -> httpx.AsyncClient:
    """An httpx client whose requests are client spans in the current trace (the processor, the risk scorer)."""
    return httpx.AsyncClient(
        timeout=timeout, transport=TracedTransport(httpx.AsyncHTTPTransport(verify=verify), provider)
    )


#: Where `claimflow dev` serves the worker's Temporal metrics unless CLAIMFLOW_WORKER_METRICS_ADDRESS says otherwise.
DEV_WORKER_METRICS_ADDRESS = "127.0.0.1:9464"


def worker_metrics_address(settings: Settings, *, dev: bool = False) -> str:
    """Where the worker's metrics are served ("" for nowhere): CLAIMFLOW_WORKER_METRICS_ADDRESS, else the dev default
    for `claimflow dev`."""
    if settings.worker_metrics_address is None:
        return DEV_WORKER_METRICS_ADDRESS if dev else ""
    return settings.worker_metrics_address


def worker_runtime(settings: Settings, *, dev: bool = False) -> Runtime | None:
    """A Temporal runtime serving the SDK's metrics (temporal_*) in Prometheus form at worker_metrics_address; None
    when there is none (the SDK's default runtime). The dev stack's default port, when taken, is skipped with a
    warning; a configured address that cannot be bound stops the process (ConfigurationError)."""
    address = worker_metrics_address(settings, dev=dev)
    if not address:
        return None
    host, _, port = address.rpartition(":")
    if not host or not port.isdigit():
        raise ConfigurationError("CLAIMFLOW_WORKER_METRICS_ADDRESS must be host:port (e.g. 0.0.0.0:9464), or empty")
    try:
        return Runtime(telemetry=TelemetryConfig(metrics=PrometheusConfig(bind_address=address)))
    except ValueError as exc:  # the exporter could not bind its port
        if settings.worker_metrics_address is None:
            log.warning("worker.metrics_not_served", extra={"address": address, "error": str(exc)})
            return None
        raise ConfigurationError(f"CLAIMFLOW_WORKER_METRICS_ADDRESS cannot be served: {exc}") from None
