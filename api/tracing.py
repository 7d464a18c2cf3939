"""A server span for every API request, continuing the caller's trace (W3C traceparent) into Temporal."""

from __future__ import annotations

from opentelemetry import propagate, trace
from opentelemetry.trace import SpanKind, Status, StatusCode, TracerProvider
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.metrics import CLIENT_CLOSED_REQUEST, route_template


class RequestTracing:
    """Opens `METHOD /route/{template}` as the current span while the request runs, so the Temporal client's
    spans (start workflow, update, query) are its children. Attributes: method, route template, status — never a
    body, a header's value or the path's ids."""

    def __init__(self, app: ASGIApp, *, provider: TracerProvider | None = None) -> None:
        self.app = app
        self.tracer = trace.get_tracer(__name__, tracer_provider=provider)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        carrier = {name.decode("latin-1"): value.decode("latin-1") for name, value in scope["headers"]}
        method = scope["method"]
        with self.tracer.start_as_current_span(
            method,
            context=propagate.extract(carrier),
            kind=SpanKind.SERVER,
            attributes={"http.request.method": method, "url.scheme": scope.get("scheme", "http")},
            record_exception=False,
            set_status_on_exception=False,
        ) as span:
            status = CLIENT_CLOSED_REQUEST

            async def send_and_note_status(message: Message) -> None:
                nonlocal status
                if message["type"] == "http.response.start":
                    status = int(message["status"])
                await send(message)

            try:
                await self.app(scope, receive, send_and_note_status)
            except Exception as exc:
                status = 500  # what Starlette's outermost error handler answers
                span.set_attribute("error.type", type(exc).__qualname__)
                raise
            finally:
                route = route_template(scope)
                span.update_name(f"{method} {route}")
                span.set_attribute("http.route", route)
                span.set_attribute("http.response.status_code", status)
                if status >= 500:
                    span.set_status(Status(StatusCode.ERROR, f"HTTP {status}"))
