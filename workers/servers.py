"""Running uvicorn apps inside one asyncio process, with our signal handling, not uvicorn's."""

from __future__ import annotations

import contextlib
from collections.abc import Generator

import uvicorn


class EmbeddedServer(uvicorn.Server):
    """A uvicorn server that leaves signal handling to the process that embeds it."""

    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        yield


#: On shutdown, requests in flight get this long to finish before their connections are closed.
GRACEFUL_SHUTDOWN_SECONDS = 3


def embedded(app: object, host: str, port: int, *, access_log: bool = False) -> EmbeddedServer:
    config = uvicorn.Config(
        app,  # type: ignore[arg-type]
        host=host,
        port=port,
        log_level="warning",
        access_log=access_log,
        lifespan="on",
        timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_SECONDS,
    )
    return EmbeddedServer(config)
