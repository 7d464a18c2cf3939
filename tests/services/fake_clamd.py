"""A stand-in for ClamAV's daemon that speaks its real INSTREAM framing over TCP, for tests.

clamd itself is not installable in CI in reasonable time (the daemon plus a signature download of hundreds of MB), so
the tests talk to this server instead: it parses `zINSTREAM\\0`, length-prefixed chunks and the zero-length end as
clamd does, and answers as clamd would — `stream: OK`, `stream: Eicar-Test-Signature FOUND` for the EICAR test string,
or `INSTREAM size limit exceeded. ERROR` past its stream limit.
"""

from __future__ import annotations

import asyncio
import struct
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

#: The anti-virus industry's harmless test file: every scanner reports it (clamd as Eicar-Test-Signature).
EICAR = rb"X5O!P%@AP[4\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"


@dataclass
class FakeClamd:
    host: str = "127.0.0.1"
    port: int = 0
    #: clamd's StreamMaxLength: a longer stream is answered with an ERROR.
    stream_max_bytes: int = 25 * 1024 * 1024
    #: What each INSTREAM session carried: the command, the chunk sizes, the bytes.
    commands: list[bytes] = field(default_factory=list)
    chunk_sizes: list[list[int]] = field(default_factory=list)
    scanned: list[bytes] = field(default_factory=list)

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            command = await reader.readuntil(b"\0")
            self.commands.append(command)
            if command != b"zINSTREAM\0":
                writer.write(b"UNKNOWN COMMAND\0")
                return
            sizes: list[int] = []
            data = bytearray()
            while True:
                (size,) = struct.unpack(">I", await reader.readexactly(4))
                if size == 0:
                    break
                sizes.append(size)
                data.extend(await reader.readexactly(size))
            if len(data) > self.stream_max_bytes:  # read to the end first, so the client hears the answer
                writer.write(b"INSTREAM size limit exceeded. ERROR\0")
                return
            self.chunk_sizes.append(sizes)
            self.scanned.append(bytes(data))
            writer.write(b"stream: Eicar-Test-Signature FOUND\0" if EICAR in data else b"stream: OK\0")
        finally:
            await writer.drain()
            writer.close()


@asynccontextmanager
async def fake_clamd(**options: int) -> AsyncIterator[FakeClamd]:
    """A FakeClamd listening on a free port of 127.0.0.1 for the block's duration."""
    clamd = FakeClamd(**options)  # type: ignore[arg-type]
    server = await asyncio.start_server(clamd.handle, clamd.host, 0)
    clamd.port = server.sockets[0].getsockname()[1]
    async with server:
        yield clamd
