"""How a claimflow process stops: the first Ctrl-C or SIGTERM stops it in order within a deadline, the second at once.

Child processes (the Temporal dev server, the embedded PostgreSQL) run in sessions of their own,
so a Ctrl-C in the terminal reaches only claimflow, which stops them after the worker and the
API. Whatever is in flight, a watchdog ends the process when the deadline passes; a second
signal ends it at once. Either way every child is killed first, so none outlives claimflow.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import threading

#: How long an orderly stop may take before the watchdog kills every child and leaves.
STOP_DEADLINE_SECONDS = 9.0
#: The exit code of a process stopped by a signal that it did not finish handling in order.
INTERRUPTED = 130

_children: list[subprocess.Popen[bytes]] = []


def track(process: subprocess.Popen[bytes]) -> None:
    """Kill `process` too if this process has to leave at once."""
    _children.append(process)


def untrack(process: subprocess.Popen[bytes]) -> None:
    if process in _children:
        _children.remove(process)


def leave_now(reason: str) -> None:
    """Kill every tracked child and exit without waiting for anything else."""
    for process in list(_children):
        if process.poll() is None:
            process.kill()
    print(f"claimflow: {reason}; stopped at once", file=sys.stderr, flush=True)
    os._exit(INTERRUPTED)


class Shutdown:
    """Signal handling for an asyncio process: `requested` is set by the first signal; the second leaves."""

    def __init__(self, deadline: float = STOP_DEADLINE_SECONDS) -> None:
        self.requested = asyncio.Event()
        self._deadline = deadline
        self._watchdog: threading.Timer | None = None

    def install(self) -> Shutdown:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, self._on_signal, sig)
        return self

    def _on_signal(self, sig: signal.Signals) -> None:
        if self.requested.is_set():
            leave_now(f"second {sig.name}")
        self.request()

    def request(self) -> None:
        """Start the orderly stop (also when a part of the process failed), guarded by the watchdog."""
        if self.requested.is_set():
            return
        self.requested.set()
        self._watchdog = threading.Timer(
            self._deadline, leave_now, args=(f"the orderly stop took over {self._deadline:.0f}s",)
        )
        self._watchdog.daemon = True
        self._watchdog.start()


def guard_cleanup() -> None:
    """Once the event loop has stopped, a signal during the remaining clean-up (the database) leaves at once."""
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda signum, _frame: leave_now(f"{signal.Signals(signum).name} during clean-up"))
