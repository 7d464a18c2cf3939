"""The worker's workflow runner: the sandbox, answering serialization-context questions outside it only
when no payload codec (that takes a context) or external storage could use the answer, and only on the SDK release it was written for."""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Sequence

import pytest
import temporalio
from temporalio.api.common.v1 import Payload
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.converter import PayloadCodec, SerializationContext, WithSerializationContext
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner

from workers.payload_codec import EncryptionCodec, PayloadKey
from workers.workflow_runner import WRITTEN_FOR_TEMPORALIO, workflow_runner


class _Reversing(PayloadCodec, WithSerializationContext):
    """A codec that asks for the serialization context."""

    def with_context(self, context: SerializationContext) -> _Reversing:
        return self

    async def encode(self, payloads: Sequence[Payload]) -> list[Payload]:
        return [Payload(metadata=p.metadata, data=p.data[::-1]) for p in payloads]

    async def decode(self, payloads: Sequence[Payload]) -> list[Payload]:
        return await self.encode(payloads)


def test_no_codec_answers_outside_the_sandbox(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TEMPORAL_DEBUG", raising=False)
    runner = workflow_runner(pydantic_data_converter)
    assert not isinstance(runner, SandboxedWorkflowRunner)
    assert isinstance(runner._inner, SandboxedWorkflowRunner)  # type: ignore[attr-defined]


def test_the_installed_sdk_is_the_release_the_runner_was_written_for() -> None:
    assert temporalio.__version__ == WRITTEN_FOR_TEMPORALIO  # an upgrade: check the runner, then move the pin


def test_written_for_sdk_answers_outside_the_sandbox_and_logs_nothing(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.delenv("TEMPORAL_DEBUG", raising=False)
    with caplog.at_level(logging.WARNING, logger="workers.workflow_runner"):
        runner = workflow_runner(pydantic_data_converter, sdk_version=WRITTEN_FOR_TEMPORALIO)
    assert not isinstance(runner, SandboxedWorkflowRunner)
    assert caplog.records == []


@pytest.mark.parametrize("other", ["1.34.0", "1.35.1", "1.36.0", "2.0.0"])
def test_another_sdk_release_gets_the_plain_sandbox_with_one_warning(
    other: str, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.delenv("TEMPORAL_DEBUG", raising=False)
    with caplog.at_level(logging.WARNING, logger="workers.workflow_runner"):
        runner = workflow_runner(pydantic_data_converter, sdk_version=other)
    assert type(runner) is SandboxedWorkflowRunner
    (record,) = caplog.records
    assert record.levelno == logging.WARNING
    message = record.getMessage()
    assert other in message and WRITTEN_FOR_TEMPORALIO in message and "SandboxedWorkflowRunner" in message
    assert "\n" not in message


def test_a_codec_that_takes_a_context_keeps_the_sandbox_answering() -> None:
    with_codec = dataclasses.replace(pydantic_data_converter, payload_codec=_Reversing())
    assert type(workflow_runner(with_codec)) is SandboxedWorkflowRunner


def test_the_payload_encryption_codec_takes_no_context_and_answers_outside_the_sandbox(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("TEMPORAL_DEBUG", raising=False)
    codec = EncryptionCodec([PayloadKey("k1", bytes(32))])
    runner = workflow_runner(dataclasses.replace(pydantic_data_converter, payload_codec=codec))
    assert type(runner) is not SandboxedWorkflowRunner


def test_a_debugger_gets_the_plain_sandbox_the_sdk_relaxes(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TEMPORAL_DEBUG", "1")
    assert type(workflow_runner(pydantic_data_converter)) is SandboxedWorkflowRunner
