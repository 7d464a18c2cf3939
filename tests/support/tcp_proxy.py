"""A small asyncio TCP proxy for fault drills: forwards to a target, and can delay, cut and restore the link."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field

from tests.support.stack import free_port

#: Called with every chunk the client sent, after it was forwarded upstream.
Watcher = Callable[[bytes], None]


@dataclass
class ProxyStats:
    accepted: int = 0
    cut: int = 0
    upstream_failures: int = 0


@dataclass(eq=False)
class _Link:
    client: asyncio.StreamWriter
    upstream: asyncio.StreamWriter | None = None
    tasks: list[asyncio.Task[None]] = field(default_factory=list)

    def abort(self) -> None:
        for writer in (self.client, self.upstream):
            if writer is not None:
                writer.transport.abort()
        for task in self.tasks:
            task.cancel()


class TcpProxy:
    """Listens on 127.0.0.1:`port` and forwards every connection to `target_host:target_port`.

    `delay` (seconds) holds each chunk before it is forwarded, in both directions, so requests
    through the proxy stay in flight longer. `cut()` closes every open connection and stops
    listening (new connections are refused); `restore()` listens on the same port again.
    `holds` maps a byte pattern to extra seconds: a client chunk containing it waits that much longer
    (e.g. one SQL statement, to keep the step that sends it in flight). `watch` sees every chunk a
    client sends (after it went upstream), to act at an exact moment.
    """

    def __init__(self, target_host: str, target_port: int, *, delay: float = 0.0) -> None:
        self.target = (target_host, target_port)
        self.port = free_port()
        self.delay = delay
        self.watch: Watcher | None = None
        self.holds: dict[bytes, float] = {}
        self.stats = ProxyStats()
        self._server: asyncio.Server | None = None
        self._links: set[_Link] = set()

    @property
    def is_up(self) -> bool:
        return self._server is not None

    async def start(self) -> None:
        if self._server is None:
            self._server = await asyncio.start_server(self._accept, "127.0.0.1", self.port, reuse_address=True)

    async def cut(self) -> None:
        """Drop every open connection at once and refuse new ones."""
        server, self._server = self._server, None
        if server is not None:
            server.close()
        links = list(self._links)
        self._links.clear()
        for link in links:
            link.abort()
        self.stats.cut += len(links)
        if server is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(server.wait_closed(), 5)

    async def restore(self) -> None:
        """Accept connections again (on the same port)."""
        await self.start()

    async def stop(self) -> None:
        await self.cut()

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if self._server is None:
            writer.transport.abort()
            return
        self.stats.accepted += 1
        link = _Link(client=writer)
        self._links.add(link)
        try:
            up_reader, up_writer = await asyncio.open_connection(*self.target)
        except OSError:
            self.stats.upstream_failures += 1
            self._links.discard(link)
            writer.transport.abort()
            return
        link.upstream = up_writer
        if link not in self._links:  # cut while we were connecting
            link.abort()
            return
        link.tasks = [
            asyncio.create_task(self._pipe(reader, up_writer, watched=True)),
            asyncio.create_task(self._pipe(up_reader, writer, watched=False)),
        ]
        try:
            await asyncio.gather(*link.tasks, return_exceptions=True)
        finally:
            self._links.discard(link)
            link.abort()

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, *, watched: bool) -> None:
        try:
            while data := await reader.read(65536):
                pause = self.delay + (sum(s for p, s in self.holds.items() if p in data) if watched else 0.0)
                if pause:
                    await asyncio.sleep(pause)
                writer.write(data)
                await writer.drain()
                if watched and self.watch is not None:
                    self.watch(data)
        except (ConnectionError, OSError):
            pass
        finally:
            writer.close()


@contextlib.asynccontextmanager
async def tcp_proxy(target_host: str, target_port: int, *, delay: float = 0.0) -> AsyncIterator[TcpProxy]:
    proxy = TcpProxy(target_host, target_port, delay=delay)
    await proxy.start()
    try:
        yield proxy
    finally:
        await proxy.stop()
