"""Activity failures in our own words: a library's exception text, which may quote a claim, never leaves the worker.

An activity's failure message is kept in the workflow's history, shown in the Temporal UI, put on the
activity's span and logged by the worker. Our own exceptions (activities/, db/, domain/, workflows/,
services/) and every Temporal error are written in our words and pass unchanged, and so do httpx's
transport errors, which describe a connection (a refused port, an unknown certificate authority) and
never carry an answer. Anything else — a pydantic error quoting an input value, a database error
quoting a row — is raised again as an ApplicationError with the same type name (so retry policies
still match it) and the same traceback (file and line, no values), and a message that names only the
type and the activity.
"""

from __future__ import annotations

from typing import Any

import httpx
from temporalio import activity
from temporalio.exceptions import ApplicationError, TemporalError
from temporalio.worker import ActivityInboundInterceptor, ExecuteActivityInput, Interceptor

#: The packages whose exceptions are written in our own words.
OUR_PACKAGES = ("activities.", "db.", "domain.", "workflows.", "services.")


def in_our_words(exc: Exception) -> bool:
    """Whether the exception's text may stand: ours, a Temporal error, or a connection's failure."""
    return isinstance(exc, TemporalError | httpx.TransportError) or type(exc).__module__.startswith(OUR_PACKAGES)


class PlainActivityFailures(Interceptor):
    """Worker interceptor: each activity's failure carries our words only (see the module docstring)."""

    def intercept_activity(self, next: ActivityInboundInterceptor) -> ActivityInboundInterceptor:
        return _PlainFailures(next)


class _PlainFailures(ActivityInboundInterceptor):
    async def execute_activity(self, input: ExecuteActivityInput) -> Any:
        try:
            return await super().execute_activity(input)
        except Exception as exc:
            if in_our_words(exc):
                raise
            kind = type(exc).__name__
            name = activity.info().activity_type
            plain = ApplicationError(f"{kind} in {name} (its text is withheld: it may quote claim data)", type=kind)
            raise plain.with_traceback(exc.__traceback__) from None
