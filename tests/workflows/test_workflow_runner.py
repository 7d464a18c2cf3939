"""The worker's workflow runner: the sandbox, answering serialization-context questions outside it only
when no payload codec or external storage could use the answer."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import pytest
from temporalio.api.common.v1 import Payload
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.converter import PayloadCodec
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner

from workers.workflow_runner import workflow_runner


class _Reversing(PayloadCodec):
    """A codec that would need the context: any codec at all."""

    async def encode(self, payloads: Sequence[Payload]) -> list[Payload]:
        return [Payload(metadata=p.metadata, data=p.data[::-1]) for p in payloads]

    async def decode(self, payloads: Sequence[Payload]) -> list[Payload]:
        return await self.encode(payloads)


def test_no_codec_answers_outside_the_sandbox(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TEMPORAL_DEBUG", raising=False)
    runner = workflow_runner(pydantic_data_converter)
    assert not isinstance(runner, SandboxedWorkflowRunner)
    assert isinstance(runner._inner, SandboxedWorkflowRunner)  # type: ignore[attr-defined]


def test_a_codec_keeps_the_sandbox_answering() -> None:
    with_codec = dataclasses.replace(pydantic_data_converter, payload_codec=_Reversing())
    assert type(workflow_runner(with_codec)) is SandboxedWorkflowRunner


def test_a_debugger_gets_the_plain_sandbox_the_sdk_relaxes(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TEMPORAL_DEBUG", "1")
    assert type(workflow_runner(pydantic_data_converter)) is SandboxedWorkflowRunner
