"""The workflow runner: Temporal's sandbox, without a trip into it per payload when no codec needs the answer.

For every payload of every workflow activation and completion, temporalio (1.35) asks the workflow
instance which serialization context the payload codec and external storage should use. Under the
sandbox each question is an `exec` inside the sandbox's restricted importer: about a hundred per claim,
a quarter of the worker's workflow CPU. The answer only reaches a payload codec or external storage
(`DataConverter._encode_payload_sequence` and friends do nothing without them), and only one that asks for it
(`WithSerializationContext`), so for a data converter with neither external storage nor such a codec (no codec,
or claimflow's AES-GCM codec, which encrypts every payload alike), this runner answers "no context" without
entering the sandbox. Everything else, the
workflow code itself included, runs in the sandbox as before. Under TEMPORAL_DEBUG the worker gets the
plain sandbox, which the SDK relaxes for a debugger only when it can see it is one.

The runner stands in for internals of one SDK release (which WorkflowInstance methods the worker calls,
when, and what it does with their answers), so it runs only on the release it was written against,
WRITTEN_FOR_TEMPORALIO; on any other the worker gets the SDK's own sandbox and the log says so. After an
upgrade, check the SDK's payload visitors still need nothing more from the instance, then move the pin.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence

import temporalio
import temporalio.workflow
from temporalio.bridge.proto.workflow_activation import WorkflowActivation
from temporalio.bridge.proto.workflow_completion import WorkflowActivationCompletion
from temporalio.converter import (
    DataConverter,
    SerializationContext,
    StorageDriverStoreContext,
    WithSerializationContext,
)
from temporalio.worker import WorkflowInstance, WorkflowInstanceDetails, WorkflowRunner
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner, SandboxRestrictions

__all__ = ["WRITTEN_FOR_TEMPORALIO", "workflow_runner"]

#: The temporalio release whose worker internals this runner was written against and checked on.
WRITTEN_FOR_TEMPORALIO = "1.35.0"

log = logging.getLogger(__name__)


def workflow_runner(data_converter: DataConverter, *, sdk_version: str | None = None) -> WorkflowRunner:
    """The sandbox; answered outside it when `data_converter` has no external storage and no payload codec that
    takes a serialization context
    (and no debugger is expected: TEMPORAL_DEBUG, as the SDK reads it) on the SDK release the runner was
    written against. `sdk_version` is the installed temporalio's unless given."""
    sandbox = sandboxed()
    if (
        isinstance(data_converter.payload_codec, WithSerializationContext)
        or data_converter.external_storage is not None
    ):
        return sandbox
    if os.environ.get("TEMPORAL_DEBUG"):
        return sandbox
    installed = sdk_version or temporalio.__version__
    if installed != WRITTEN_FOR_TEMPORALIO:
        log.warning(
            "workflow runner: temporalio %s is installed and workers/workflow_runner.py was written against %s; "
            "the worker runs the SDK's SandboxedWorkflowRunner",
            installed,
            WRITTEN_FOR_TEMPORALIO,
        )
        return sandbox
    return _ContextFreeRunner(sandbox)


def sandboxed() -> SandboxedWorkflowRunner:
    """The SDK's sandbox, with `cryptography` passed through: its Rust extension may be loaded once per process,
    and the update guard verifies signatures inside update validators (an import there aborted the process)."""
    return SandboxedWorkflowRunner(restrictions=SandboxRestrictions.default.with_passthrough_modules("cryptography"))


class _ContextFreeRunner(WorkflowRunner):
    """Delegates to another runner; its instances tell the payload visitors "no context"."""

    def __init__(self, inner: WorkflowRunner) -> None:
        self._inner = inner

    def prepare_workflow(self, defn: temporalio.workflow._Definition) -> None:
        self._inner.prepare_workflow(defn)

    def create_instance(self, det: WorkflowInstanceDetails) -> WorkflowInstance:
        return _ContextFreeInstance(self._inner.create_instance(det))

    def set_worker_level_failure_exception_types(self, types: Sequence[type[BaseException]]) -> None:
        self._inner.set_worker_level_failure_exception_types(types)


class _ContextFreeInstance(WorkflowInstance):
    """A workflow instance whose serialization context questions are answered without entering it."""

    def __init__(self, inner: WorkflowInstance) -> None:
        self._inner = inner

    def activate(self, act: WorkflowActivation) -> WorkflowActivationCompletion:
        return self._inner.activate(act)

    def get_serialization_context(self, command_info: object) -> SerializationContext | None:
        return None  # the context-free data converter: the same bytes when there is no codec

    def get_external_store_context(self, command_info: object) -> StorageDriverStoreContext:
        return StorageDriverStoreContext(target=None)  # no external storage to direct

    def get_info(self) -> temporalio.workflow.Info:
        return self._inner.get_info()

    def get_thread_id(self) -> int | None:
        return self._inner.get_thread_id()  # the deadlock detector reads the workflow thread's frames
