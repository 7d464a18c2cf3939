"""A small asyncio TCP proxy for fault drills: forwards to a target, and can delay, cut and restore the link, and
hold the server's answer to a statement the server has already acted on."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field

from tests.support.stack import free_port

#: Called with every chunk the client sent, after it was forwarded upstream.
Watcher = Callable[[bytes], None]
#: How much of what a client sent before a chunk reply holds look at with it (their patterns are shorter).
_TAIL = 512


@dataclass(eq=False)
class ReplyHold:
    """Holds back the server's answer to one client statement, after the statement went to the server.

    The first client chunk containing `statement` — on a connection that sent a chunk containing `after`
    before, when `after` is given — arms the hold on its connection; the next bytes the server sends there
    (its answer: for a COMMIT, "COMMIT" once it has committed) are held until `release()` or `seconds`,
    then passed on if the client is still there. Once only. `held` is set when the answer is being held
    (`answer` has its bytes); `after_sent` counts every chunk containing `after` that went to the server,
    on any connection (the statement sent again by a retry).
    """

    statement: bytes
    after: bytes | None
    seconds: float
    held: asyncio.Event = field(default_factory=asyncio.Event)
    answer: bytes = b""
    after_sent: int = 0
    armed: bool = False
    _released: asyncio.Event = field(default_factory=asyncio.Event)

    def release(self) -> None:
        self._released.set()

    async def wait_released(self) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._released.wait(), self.seconds)


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
    #: Reply holds whose `after` this connection sent.
    primed: set[ReplyHold] = field(default_factory=set)
    #: The reply hold waiting for the server's next bytes on this connection.
    pending: ReplyHold | None = None
    #: The end of what the client sent before, so a pattern split between two reads is still seen.
    tail: bytes = b""

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
    client sends (after it went upstream), to act at an exact moment. `hold_reply` holds the server's
    answer to a statement it has already received (see ReplyHold).
    """

    def __init__(self, target_host: str, target_port: int, *, delay: float = 0.0) -> None:
        self.target = (target_host, target_port)
        self.port = free_port()
        self.delay = delay
        self.watch: Watcher | None = None
        self.holds: dict[bytes, float] = {}
        self.reply_holds: list[ReplyHold] = []
        self.stats = ProxyStats()
        self._server: asyncio.Server | None = None
        self._links: set[_Link] = set()

    @property
    def is_up(self) -> bool:
        return self._server is not None

    async def start(self) -> None:
        if self._server is None:
            self._server = await asyncio.start_server(self._accept, "127.0.0.1", self.port, reuse_address=True)

    def hold_reply(self, statement: bytes, *, after: bytes | None = None, seconds: float = 60.0) -> ReplyHold:
        """Hold the answer to the next `statement` (on a connection that sent `after` first): see ReplyHold."""
        hold = ReplyHold(statement, after, seconds)
        self.reply_holds.append(hold)
        return hold

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
            asyncio.create_task(self._pipe(link, reader, up_writer, watched=True)),
            asyncio.create_task(self._pipe(link, up_reader, writer, watched=False)),
        ]
        try:
            await asyncio.gather(*link.tasks, return_exceptions=True)
        finally:
            self._links.discard(link)
            link.abort()

    async def _pipe(
        self, link: _Link, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, *, watched: bool
    ) -> None:
        try:
            while data := await reader.read(65536):
                pause = self.delay + (sum(s for p, s in self.holds.items() if p in data) if watched else 0.0)
                if pause:
                    await asyncio.sleep(pause)
                if watched:
                    self._arm_reply_holds(link, data)  # before the statement goes: its answer may come back at once
                elif link.pending is not None:
                    hold, link.pending = link.pending, None
                    hold.answer = data
                    hold.held.set()
                    await hold.wait_released()
                writer.write(data)
                await writer.drain()
                if watched and self.watch is not None:
                    self.watch(data)
        except (ConnectionError, OSError):
            pass
        finally:
            writer.close()

    def _arm_reply_holds(self, link: _Link, data: bytes) -> None:
        if not self.reply_holds:
            return
        seen, link.tail = link.tail + data, (link.tail + data)[-_TAIL:]

        def sent(pattern: bytes) -> bool:
            """`pattern` ends in `data` (it may begin in the tail of the chunk before)."""
            return seen.find(pattern, max(0, len(seen) - len(data) - len(pattern) + 1)) >= 0

        for hold in self.reply_holds:
            if hold.after is not None and sent(hold.after):
                hold.after_sent += 1
                link.primed.add(hold)
            if not hold.armed and sent(hold.statement) and (hold.after is None or hold in link.primed):
                hold.armed = True
                link.pending = hold


@contextlib.asynccontextmanager
async def tcp_proxy(target_host: str, target_port: int, *, delay: float = 0.0) -> AsyncIterator[TcpProxy]:
    proxy = TcpProxy(target_host, target_port, delay=delay)
    await proxy.start()
    try:
        yield proxy
    finally:
        await proxy.stop()
