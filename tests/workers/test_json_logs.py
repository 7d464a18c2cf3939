"""JSON logs: one object a line with the current span's trace and span ids and the claim id the code passes."""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Iterator

import pytest
from opentelemetry.sdk.trace import TracerProvider

from tests.workers.test_settings import production
from workers.logging_setup import JsonFormatter, configure_logging
from workers.settings import Environment, Settings


@pytest.fixture
def restored_root() -> Iterator[None]:
    """configure_logging replaces the root's and uvicorn's handlers and levels: put the previous ones back afterwards."""
    loggers = [logging.getLogger(name) for name in ("", "uvicorn", "uvicorn.error", "uvicorn.access")]
    saved = [(list(logger.handlers), logger.level, logger.propagate) for logger in loggers]
    yield
    for logger, (handlers, level, propagate) in zip(loggers, saved, strict=True):
        logger.handlers[:] = handlers
        logger.setLevel(level)
        logger.propagate = propagate


def record(message: str, **extra: object) -> logging.LogRecord:
    logger = logging.getLogger("activities.processor")
    return logger.makeRecord(logger.name, logging.INFO, __file__, 1, message, (), None, extra=extra)


def test_a_record_inside_a_span_carries_its_trace_span_and_claim_ids() -> None:
    tracer = TracerProvider().get_tracer(__name__)
    with tracer.start_as_current_span("submit_claim") as span:
        line = JsonFormatter().format(record("claim.submitted", claim_id="c0ffee", payer_claim_id="P-1"))
    entry = json.loads(line)
    context = span.get_span_context()
    assert entry["trace_id"] == f"{context.trace_id:032x}"
    assert entry["span_id"] == f"{context.span_id:016x}"
    assert entry["claim_id"] == "c0ffee"
    assert entry["payer_claim_id"] == "P-1"
    assert entry["message"] == "claim.submitted"
    assert entry["level"] == "INFO"
    assert entry["logger"] == "activities.processor"
    assert "\n" not in line


def test_a_record_outside_any_span_has_no_trace_ids_and_keeps_its_exception() -> None:
    try:
        raise ValueError("the processor answered HTTP 503")
    except ValueError:
        logger = logging.getLogger("workers")
        failed = logger.makeRecord("workers", logging.ERROR, __file__, 1, "claim.failed", (), sys.exc_info())
    entry = json.loads(JsonFormatter().format(failed))
    assert "trace_id" not in entry
    assert "span_id" not in entry
    assert "ValueError: the processor answered HTTP 503" in entry["exception"]


def test_log_format_is_json_in_production_and_text_elsewhere_unless_set() -> None:
    assert production().json_logs is True
    assert Settings(_env_file=None).json_logs is False  # type: ignore[call-arg]
    assert Settings(environment=Environment.TEST, _env_file=None).json_logs is False  # type: ignore[call-arg]
    assert production(log_format="text").json_logs is False
    assert Settings(log_format="json", _env_file=None).json_logs is True  # type: ignore[call-arg]


def test_configure_logging_writes_json_lines_to_stderr_through_uvicorns_loggers_too(
    restored_root: None, capfd: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CLAIMFLOW_LOG_FORMAT", "json")
    configure_logging(Settings(_env_file=None))  # type: ignore[call-arg]
    tracer = TracerProvider().get_tracer(__name__)
    with tracer.start_as_current_span("POST /v1/claims") as span:
        logging.getLogger("activities.assignment").info("claim.assigned", extra={"claim_id": "abc123"})
        logging.getLogger("uvicorn.error").warning("server.slow")
    lines = [json.loads(line) for line in capfd.readouterr().err.splitlines() if line.startswith("{")]
    assert [(line["message"], line.get("claim_id")) for line in lines] == [
        ("claim.assigned", "abc123"),
        ("server.slow", None),
    ]
    assert {line["trace_id"] for line in lines} == {f"{span.get_span_context().trace_id:032x}"}


def test_configure_logging_writes_text_when_asked(
    restored_root: None, capfd: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CLAIMFLOW_LOG_FORMAT", "text")
    configure_logging(Settings(_env_file=None))  # type: ignore[call-arg]
    logging.getLogger("activities.assignment").info("claim.assigned", extra={"claim_id": "abc123"})
    err = capfd.readouterr().err
    assert " INFO activities.assignment claim.assigned" in err
    assert not err.lstrip().startswith("{")
