"""`claimflow worker`, tracing every activity it starts and finishes, so a drill can tell what a kill interrupted.

Run as `python -m tests.support.activity_trace`: exactly the worker `claimflow worker` runs (same
entry point, same settings from CLAIMFLOW_*), plus one log line when an activity (local or not)
starts and one when it finishes. The lines come from the SDK's own debug records
(temporalio 1.35: "Running activity %s (token %s)" and "Completing activity with completion: %s"),
so the trace is what the worker really did, not what we hoped it did.
"""

from __future__ import annotations

import logging
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

MARK = "ACTIVITY-TRACE"
STARTED = "Running activity %s (token %s)"
FINISHED = "Completing activity with completion: %s"


class _Tracer(logging.Handler):
    """Writes one line per activity start and finish; passes warnings and errors on to the root logger."""

    def emit(self, record: logging.LogRecord) -> None:
        args: tuple[Any, ...] = record.args if isinstance(record.args, tuple) else ()
        line = None
        if record.msg == STARTED and len(args) == 2:
            line = f"{MARK} start {time.time():.3f} {args[0]} {bytes(args[1]).hex()}"
        elif record.msg == FINISHED and len(args) == 1:
            line = f"{MARK} end {time.time():.3f} - {bytes(args[0].task_token).hex()}"
        if line is not None:
            sys.stderr.write(line + "\n")
            sys.stderr.flush()
        elif record.levelno >= logging.WARNING:
            logging.getLogger().handle(record)


@dataclass(frozen=True)
class ActivityRun:
    activity_type: str
    token: str
    started_at: float


def in_flight(log: Path) -> list[ActivityRun]:
    """The activities a traced worker started and has not finished, per its log so far."""
    running: dict[str, ActivityRun] = {}
    text = log.read_text(errors="replace") if log.exists() else ""
    for line in text.splitlines():
        parts = line.split()
        if len(parts) != 5 or parts[0] != MARK:
            continue
        _, event, at, activity_type, token = parts
        if event == "start":
            running[token] = ActivityRun(activity_type, token, float(at))
        elif event == "end":
            running.pop(token, None)
    return list(running.values())


def started_types(log: Path) -> set[str]:
    """Every activity type the traced worker ever started."""
    text = log.read_text(errors="replace") if log.exists() else ""
    return {parts[3] for line in text.splitlines() if len(parts := line.split()) == 5 and parts[:2] == [MARK, "start"]}


def main() -> None:
    sdk = logging.getLogger("temporalio.worker._activity")
    sdk.setLevel(logging.DEBUG)
    sdk.propagate = False
    sdk.addHandler(_Tracer())
    from workers.cli import main as claimflow

    claimflow(["worker"])


if __name__ == "__main__":
    main()
