"""The event loop our processes run on: uvloop (libuv), which asyncio's own loop is about twice as slow as."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any, TypeVar

import uvloop

T = TypeVar("T")


def run(main: Coroutine[Any, Any, T]) -> T:
    """asyncio.run on a uvloop event loop (Python 3.11's asyncio.run takes no loop factory)."""
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        return runner.run(main)
