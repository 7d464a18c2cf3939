"""The worker's guard on updates: a claim's workflow sees only updates the API signed (workflows/update_signatures)."""

from __future__ import annotations

from collections.abc import Mapping

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from pydantic import BaseModel
from temporalio import workflow
from temporalio.exceptions import ApplicationError
from temporalio.worker import (
    HandleUpdateInput,
    Interceptor,
    WorkflowInboundInterceptor,
    WorkflowInterceptorClassInput,
)

from workflows.claim_contract import SIGNED_UPDATES
from workflows.update_signatures import UNSIGNED_UPDATE, UpdateRefused, key_id, verify


class UpdateGuard(Interceptor):
    """Refuses, in the validator phase (no trace in history), any claim update without a trusted signature."""

    def __init__(self, trusted: list[Ed25519PublicKey]) -> None:
        if not trusted:
            raise ValueError("the update guard needs at least one trusted public key")
        self._trusted: Mapping[str, Ed25519PublicKey] = {key_id(key): key for key in trusted}

    def workflow_interceptor_class(
        self, input: WorkflowInterceptorClassInput
    ) -> type[WorkflowInboundInterceptor] | None:
        trusted = self._trusted

        class _Guarded(WorkflowInboundInterceptor):
            def handle_update_validator(self, input: HandleUpdateInput) -> None:
                if input.update in SIGNED_UPDATES:
                    [arg] = input.args
                    assert isinstance(arg, BaseModel)
                    try:
                        verify(trusted, workflow.info().workflow_id, input.update, arg, arg.signature, workflow.now())  # type: ignore[attr-defined]
                    except UpdateRefused as refused:
                        raise ApplicationError(str(refused), type=UNSIGNED_UPDATE, non_retryable=True) from None
                super().handle_update_validator(input)

        return _Guarded
