"""One trace per claim over OTLP: the API request, the workflow and its activities, and the call to the processor.

The spans leave through the OTLP/HTTP exporter the settings build, to a real OTLP receiver in the test (an HTTP
server that decodes the protobuf ExportTraceServiceRequest at /v1/traces), as they would reach a collector.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)
from opentelemetry.proto.trace.v1.trace_pb2 import Span
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind
from pydantic import SecretStr
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.client import Client

from tests.api.test_claim_lifecycle import member
from tests.support.stack import running_stack
from workers.settings import Settings
from workers.telemetry import span_exporter, tracing

TENANT_HEADER = ("x-claimflow-tenant", "tracing-test")


@dataclass
class OtlpReceiver:
    """What an OpenTelemetry collector's OTLP/HTTP receiver got: decoded spans and the requests' headers."""

    url: str
    spans: list[Span] = field(default_factory=list)
    headers: list[dict[str, str]] = field(default_factory=list)
    paths: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


@pytest.fixture
def receiver() -> Iterator[OtlpReceiver]:
    received = OtlpReceiver(url="")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            request = ExportTraceServiceRequest()
            request.ParseFromString(body)
            with received.lock:
                received.paths.append(self.path)
                received.headers.append({name.lower(): value for name, value in self.headers.items()})
                for resource_spans in request.resource_spans:
                    for scope_spans in resource_spans.scope_spans:
                        received.spans.extend(scope_spans.spans)
            answer = ExportTraceServiceResponse().SerializeToString()
            self.send_response(200)
            self.send_header("Content-Type", "application/x-protobuf")
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    received.url = f"http://127.0.0.1:{server.server_address[1]}/v1/traces"
    yield received
    server.shutdown()
    server.server_close()


def attributes(span: Span) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for attribute in span.attributes:
        kind = attribute.value.WhichOneof("value")
        values[attribute.key] = getattr(attribute.value, kind) if kind else None
    return values


async def test_a_claim_submitted_through_the_api_is_one_trace_from_request_to_processor_call(
    temporal: Client, sessions: async_sessionmaker[AsyncSession], sandbox_url: str, receiver: OtlpReceiver
) -> None:
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None,
        trace_exporter="otlp",
        trace_otlp_endpoint=receiver.url,
        trace_otlp_headers={TENANT_HEADER[0]: SecretStr(TENANT_HEADER[1])},
    )
    provider = TracerProvider(resource=Resource.create({"service.name": "claimflow-test"}))
    provider.add_span_processor(BatchSpanProcessor(span_exporter(settings)))
    config = temporal.config()
    config["interceptors"] = tracing(settings.trace_exporter, provider)
    traced = Client(**config)
    body = member("M")

    async with running_stack(traced, sessions, sandbox_url, tracer_provider=provider) as stack:
        claim_id = await stack.submit(body)
        await stack.wait_for(claim_id, "closed")
    assert provider.force_flush(timeout_millis=10_000)
    provider.shutdown()

    with receiver.lock:
        spans, headers, paths = list(receiver.spans), list(receiver.headers), list(receiver.paths)
    assert set(paths) == {"/v1/traces"}
    assert all(sent.get(TENANT_HEADER[0]) == TENANT_HEADER[1] for sent in headers)
    assert all(sent["content-type"] == "application/x-protobuf" for sent in headers)

    [request] = [span for span in spans if span.name == "POST /v1/claims"]
    assert request.kind == Span.SPAN_KIND_SERVER
    assert attributes(request) == {
        "http.request.method": "POST",
        "url.scheme": "http",
        "http.route": "/v1/claims",
        "http.response.status_code": 202,
    }
    trace = [span for span in spans if span.trace_id == request.trace_id]
    names = {span.name for span in trace}
    assert {
        "StartWorkflow:ClaimWorkflow",
        "RunWorkflow:ClaimWorkflow",
        "StartActivity:submit_claim",
        "RunActivity:submit_claim",
        "RunActivity:poll_claim_status",
        "RunActivity:issue_payment",
    } <= names
    sandbox = urlsplit(sandbox_url)
    processor_calls = [
        span
        for span in trace
        if span.kind == Span.SPAN_KIND_CLIENT and attributes(span).get("server.port") == sandbox.port
    ]
    submit_runs = {span.span_id for span in trace if span.name == "RunActivity:submit_claim"}
    submissions = [span for span in processor_calls if span.parent_span_id in submit_runs]
    assert [(span.name, attributes(span)["http.request.method"], attributes(span)["http.response.status_code"])
            for span in submissions] == [("POST", "POST", 201)]  # fmt: skip
    assert attributes(submissions[0])["url.path"] == "/v1/claims"
    # The request's span is the trace's root: everything else descends from it.
    by_id = {span.span_id: span for span in trace}
    for span in trace:
        root = span
        while root.parent_span_id in by_id:
            root = by_id[root.parent_span_id]
        assert root.span_id == request.span_id, span.name

    # No claim data on any span: ids and names only.
    exported = b"".join(span.SerializeToString() for span in spans)
    patient = body["patient"]
    for value in (patient["last_name"], patient["date_of_birth"], patient["member_id"], body["patient_control_number"]):
        assert value.encode() not in exported


async def test_a_callers_traceparent_is_continued_by_the_request_span(
    temporal: Client, sessions: async_sessionmaker[AsyncSession], sandbox_url: str
) -> None:
    spans = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(spans))
    trace_id, parent_id = "4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7"
    headers = {"traceparent": f"00-{trace_id}-{parent_id}-01"}

    async with running_stack(temporal, sessions, sandbox_url, with_worker=False, tracer_provider=provider) as stack:
        assert (await stack.api.get("/healthz", headers=headers)).status_code == 200

    [request] = spans.get_finished_spans()
    assert request.name == "GET /healthz"
    assert request.kind is SpanKind.SERVER
    assert f"{request.context.trace_id:032x}" == trace_id
    assert request.parent is not None and f"{request.parent.span_id:016x}" == parent_id
