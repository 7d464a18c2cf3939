"""Waiting in tests for something another process does: a condition polled until it holds, or a failure."""

from __future__ import annotations

import asyncio
from collections.abc import Callable


async def until(condition: Callable[[], bool], timeout: float = 30.0, every: float = 0.1) -> None:
    """Wait until `condition()` holds; fail after `timeout` seconds."""
    for _ in range(int(timeout / every)):
        if condition():
            return
        await asyncio.sleep(every)
    raise AssertionError(f"not within {timeout:g} s")
