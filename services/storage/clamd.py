"""The virus-scan hook's one real scanner: ClamAV's daemon, spoken to with its INSTREAM command over TCP."""

from __future__ import annotations

import asyncio
import struct

from services.storage import VirusScannerUnavailableError

#: Bytes sent per INSTREAM chunk (clamd's StreamMaxLength bounds the whole stream, not a chunk).
CHUNK_BYTES = 64 * 1024
#: The longest reply read from clamd.
MAX_REPLY_BYTES = 4096


class ClamdScanner:
    """`zINSTREAM\\0`, then the bytes as chunks each prefixed by its length (4 bytes, big-endian), then a zero
    length; clamd answers `stream: OK`, `stream: <signature> FOUND` or `<reason> ERROR`, NUL-terminated."""

    def __init__(self, host: str, port: int, *, timeout_seconds: float = 30.0) -> None:
        self.host = host
        self.port = port
        self.timeout_seconds = timeout_seconds

    async def scan(self, data: bytes) -> str | None:
        try:
            reply = await asyncio.wait_for(self._instream(data), self.timeout_seconds)
        except (OSError, TimeoutError, asyncio.IncompleteReadError, asyncio.LimitOverrunError) as error:
            raise VirusScannerUnavailableError(
                f"clamd at {self.host}:{self.port} did not answer ({type(error).__name__})"
            ) from None
        return verdict(reply)

    async def _instream(self, data: bytes) -> str:
        reader, writer = await asyncio.open_connection(self.host, self.port, limit=MAX_REPLY_BYTES)
        try:
            try:
                writer.write(b"zINSTREAM\0")
                for start in range(0, len(data), CHUNK_BYTES):
                    chunk = data[start : start + CHUNK_BYTES]
                    writer.write(struct.pack(">I", len(chunk)) + chunk)
                    await writer.drain()
                writer.write(struct.pack(">I", 0))
                await writer.drain()
            except (BrokenPipeError, ConnectionResetError):
                pass  # clamd may answer (an ERROR past its stream limit) and close before the stream ends
            raw = await reader.readuntil(b"\0")
            return raw.rstrip(b"\0").decode("utf-8", errors="replace").strip()
        finally:
            writer.close()
            try:
                await writer.wait_closed()
            except OSError:
                pass


def verdict(reply: str) -> str | None:
    """The signature a clamd reply names (None: clean); VirusScannerUnavailableError for an error or an unknown
    reply, so nothing is taken that clamd did not call clean."""
    _, _, result = reply.partition(": ")
    if result == "OK":
        return None
    if result.endswith(" FOUND"):
        return result.removesuffix(" FOUND").strip() or "unnamed signature"
    raise VirusScannerUnavailableError(f"clamd could not scan the document: {reply[:200]}")
