"""Tracing: OpenTelemetry spans for every workflow, activity, signal, query and update."""

from __future__ import annotations

from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, ConsoleSpanExporter
from temporalio.client import Interceptor
from temporalio.contrib.opentelemetry import TracingInterceptor


def tracing(exporter: str, provider: TracerProvider | None = None) -> list[Interceptor]:
    """Client interceptors (workers built from the client inherit them).

    `exporter` is `none` (spans are created but not exported: cheap, and context still flows
    between the API, the workflow and its activities) or `console` (spans printed as JSON). Spans
    carry ids and names only — no claim data is put on them — and a failed span's status is the
    failure's type and message, which are ours: the claim worker rewrites any library's exception
    text (workers/activity_failures.py) and the processor client keeps the processor's bodies out.
    `provider` replaces the global tracer provider (tests export to memory through it).
    """
    if provider is not None:
        return [TracingInterceptor(provider.get_tracer(__name__))]
    if exporter == "console" and not isinstance(trace.get_tracer_provider(), TracerProvider):
        provider = TracerProvider()
        provider.add_span_processor(BatchSpanProcessor(ConsoleSpanExporter()))
        trace.set_tracer_provider(provider)
    return [TracingInterceptor()]
