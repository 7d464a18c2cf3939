"""Running uvicorn apps inside one asyncio process, with our signal handling, not uvicorn's."""

from __future__ import annotations

import contextlib
from collections.abc import Generator

import uvicorn

from workers.settings import TlsFiles


class EmbeddedServer(uvicorn.Server):
    """A uvicorn server that leaves signal handling to the process that embeds it."""

    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        yield


#: On shutdown, requests in flight get this long to finish before their connections are closed.
GRACEFUL_SHUTDOWN_SECONDS = 3


def embedded(
    app: object, host: str, port: int, *, access_log: bool = False, tls: TlsFiles | None = None
) -> EmbeddedServer:
    """A server for `app` on host:port; HTTPS with `tls` (certificate chain and key), plain HTTP without."""
    config = uvicorn.Config(
        app,  # type: ignore[arg-type]
        host=host,
        port=port,
        log_level="warning",
        access_log=access_log,
        lifespan="on",
        timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_SECONDS,
        ssl_certfile=tls.cert_file if tls else None,
        ssl_keyfile=tls.key_file if tls else None,
    )
    return EmbeddedServer(config)
