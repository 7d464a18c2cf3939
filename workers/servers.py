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


def embedded(app: object, host: str, port: int, *, access_log: bool = False) -> EmbeddedServer:
    config = uvicorn.Config(app, host=host, port=port, log_level="warning", access_log=access_log, lifespan="on")  # type: ignore[arg-type]
    return EmbeddedServer(config)
