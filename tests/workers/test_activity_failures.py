"""Activity failures in our own words: a library's exception text reaches neither the history, the spans nor the log."""

from __future__ import annotations

import logging
import uuid
from datetime import timedelta

import pytest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from pydantic import BaseModel
from temporalio import activity, workflow
from temporalio.client import Client, WorkflowFailureError
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError
from temporalio.worker import UnsandboxedWorkflowRunner, Worker

from db.errors import ClaimNotFoundError
from workers.activity_failures import PlainActivityFailures
from workers.telemetry import tracing

#: What a library's message may quote: the patient's name from the row or the body it choked on.
QUOTED = "Zyxwarden Quillfeather"


class Patient(BaseModel):
    date_of_birth: int


@activity.defn(name="load_patient")
async def load_patient(kind: str) -> None:
    if kind == "library":
        Patient.model_validate({"date_of_birth": QUOTED})  # pydantic quotes the input value
    raise ClaimNotFoundError("c-1")


@workflow.defn(name="PlainFailuresProbe")
class Probe:
    @workflow.run
    async def run(self, kind: str) -> None:
        await workflow.execute_activity(
            "load_patient",
            kind,
            start_to_close_timeout=timedelta(seconds=10),
            retry_policy=RetryPolicy(maximum_attempts=1),
        )


async def failure_of(temporal: Client, kind: str, spans: InMemorySpanExporter) -> ApplicationError:
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(spans))
    config = temporal.config()
    config["interceptors"] = tracing("none", provider)
    traced = Client(**config)
    queue = f"failures-{uuid.uuid4().hex[:8]}"
    async with Worker(
        traced,
        task_queue=queue,
        workflows=[Probe],
        activities=[load_patient],
        interceptors=[PlainActivityFailures()],
        workflow_runner=UnsandboxedWorkflowRunner(),
    ):
        with pytest.raises(WorkflowFailureError) as failed:
            await traced.execute_workflow(Probe.run, kind, id=f"probe-{uuid.uuid4()}", task_queue=queue)
    assert isinstance(failed.value.cause, ActivityError)
    cause = failed.value.cause.cause
    assert isinstance(cause, ApplicationError)
    return cause


async def test_a_library_error_keeps_its_type_and_loses_its_text(
    temporal: Client, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    spans = InMemorySpanExporter()
    cause = await failure_of(temporal, "library", spans)
    assert (cause.type, cause.message) == (
        "ValidationError",
        "ValidationError in load_patient (its text is withheld: it may quote claim data)",
    )
    assert QUOTED not in str(cause.failure)  # message, stack trace and causes as the history keeps them
    statuses = [span.status.description or "" for span in spans.get_finished_spans()]
    assert any("ValidationError" in status for status in statuses)
    assert all(QUOTED not in span.to_json() for span in spans.get_finished_spans())
    logged = [logging.Formatter().format(record) for record in caplog.records]  # with the worker's tracebacks
    assert any("Completing activity as failed" in line for line in logged)
    assert all(QUOTED not in line for line in logged)


async def test_our_own_errors_keep_their_words(temporal: Client) -> None:
    cause = await failure_of(temporal, "ours", InMemorySpanExporter())
    assert (cause.type, cause.message) == ("ClaimNotFoundError", str(ClaimNotFoundError("c-1")))
