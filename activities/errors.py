"""Failure types activities raise; the workflow and operators read them by `type`."""

from __future__ import annotations

from temporalio.exceptions import ApplicationError

#: The processor refused the request itself (4xx): retrying the same request cannot help.
PROCESSOR_REFUSED = "ProcessorRefusedRequest"
#: The claim the activity was asked about does not exist.
CLAIM_NOT_FOUND = "ClaimNotFound"

NON_RETRYABLE = [PROCESSOR_REFUSED, CLAIM_NOT_FOUND]


def permanent(message: str, error_type: str) -> ApplicationError:
    """A business failure that retrying cannot fix."""
    return ApplicationError(message, type=error_type, non_retryable=True)
