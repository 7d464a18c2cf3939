"""An ASGI app behind a real uvicorn socket in the test's event loop: for what only a real connection shows."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Iterator
from typing import Any

import uvicorn

from tests.support.stack import free_port


class QuietServer(uvicorn.Server):
    """uvicorn inside the test's event loop, leaving signal handling to pytest."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


@contextlib.asynccontextmanager
async def served(app: Any, *, lifespan: str = "on") -> AsyncIterator[str]:
    """Serve `app` on a free loopback port until the block ends; its base URL."""
    port = free_port()
    server = QuietServer(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan=lifespan))
    server.config.timeout_graceful_shutdown = 1
    task = asyncio.create_task(server.serve())
    try:
        async with asyncio.timeout(10):
            while not server.started:
                assert not task.done(), "the server stopped"
                await asyncio.sleep(0.01)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task
