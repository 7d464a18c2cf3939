"""Tracing: OpenTelemetry spans for every workflow, activity, signal, query and update."""

from __future__ import annotations

from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, ConsoleSpanExporter
from temporalio.client import Interceptor
from temporalio.contrib.opentelemetry import TracingInterceptor


def tracing(exporter: str) -> list[Interceptor]:
    """Client interceptors (workers built from the client inherit them).

    `exporter` is `none` (spans are created but not exported: cheap, and context still flows
    between the API, the workflow and its activities) or `console` (spans printed as JSON; carries
    ids and names only — no claim data is put on spans).
    """
    if exporter == "console" and not isinstance(trace.get_tracer_provider(), TracerProvider):
        provider = TracerProvider()
        provider.add_span_processor(BatchSpanProcessor(ConsoleSpanExporter()))
        trace.set_tracer_provider(provider)
    return [TracingInterceptor()]
