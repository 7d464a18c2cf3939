"""CancelOnDisconnect: a handler whose client left before the response started is cancelled; nothing else changes."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import httpx
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route
from starlette.types import Message, Receive, Scope, Send

from api.disconnect import CancelOnDisconnect
from tests.support.stack import free_port
from workers.temporal_server import wait_for_port


class Handler:
    """A route that waits forever once called, and records whether it was cancelled."""

    def __init__(self) -> None:
        self.started = asyncio.Event()
        self.cancelled = asyncio.Event()

    async def wait_forever(self, _: Request) -> Response:
        self.started.set()
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            self.cancelled.set()
            raise
        return PlainTextResponse("unreachable")


async def echo(request: Request) -> Response:
    return PlainTextResponse(await request.body())


def tiny_app(handler: Handler) -> CancelOnDisconnect:
    return CancelOnDisconnect(
        Starlette(routes=[Route("/wait", handler.wait_forever), Route("/echo", echo, methods=["POST"])])
    )


def http_scope(path: str, method: str = "GET", headers: list[tuple[bytes, bytes]] | None = None) -> Scope:
    """An HTTP request's ASGI scope, as a server would build it."""
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"test"), *(headers or [])],
        "client": ("127.0.0.1", 50000),
        "server": ("test", 80),
    }


class Client:
    """A hand-written ASGI client side: messages the test feeds to receive(), and what the app sent."""

    def __init__(self) -> None:
        self.incoming: asyncio.Queue[Message] = asyncio.Queue()
        self.sent: list[Message] = []
        self.handed = 0  # messages receive() has returned

    async def receive(self) -> Message:
        message = await self.incoming.get()
        self.handed += 1
        return message

    async def send(self, message: Message) -> None:
        self.sent.append(message)


async def test_handler_waiting_forever_is_cancelled_when_the_client_disconnects() -> None:
    handler = Handler()
    client = Client()
    client.incoming.put_nowait({"type": "http.request", "body": b"", "more_body": False})
    call = asyncio.create_task(tiny_app(handler)(http_scope("/wait"), client.receive, client.send))
    await asyncio.wait_for(handler.started.wait(), 5)

    client.incoming.put_nowait({"type": "http.disconnect"})
    await asyncio.wait_for(call, 5)

    assert handler.cancelled.is_set()
    assert client.sent == []


async def test_disconnect_after_the_response_started_is_passed_on_not_cancelled() -> None:
    seen: list[Message] = []

    async def streaming(scope: Scope, receive: Receive, send: Send) -> None:
        await receive()  # the request
        await send({"type": "http.response.start", "status": 200, "headers": []})
        seen.append(await receive())  # waits until the client leaves, as a streaming response does
        seen.append(await receive())  # and asking again gets the same answer

    client = Client()
    client.incoming.put_nowait({"type": "http.request", "body": b"", "more_body": False})
    call = asyncio.create_task(CancelOnDisconnect(streaming)(http_scope("/"), client.receive, client.send))
    await asyncio.sleep(0.05)
    client.incoming.put_nowait({"type": "http.disconnect"})
    await asyncio.wait_for(call, 5)

    assert not call.cancelled()
    assert seen == [{"type": "http.disconnect"}] * 2
    assert [m["type"] for m in client.sent] == ["http.response.start"]


async def test_body_chunks_are_read_from_the_client_only_as_the_app_takes_them() -> None:
    taken: list[tuple[bytes, int]] = []
    client = Client()

    async def slow_reader(scope: Scope, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            await asyncio.sleep(0.02)  # the reader task gets every chance to read ahead
            taken.append((message.get("body", b""), client.handed))
            if not message.get("more_body", False):
                break
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    for n, chunk in enumerate([b"a", b"b", b"c"]):
        client.incoming.put_nowait({"type": "http.request", "body": chunk, "more_body": n < 2})
    await asyncio.wait_for(CancelOnDisconnect(slow_reader)(http_scope("/", "POST"), client.receive, client.send), 5)

    # When the app takes chunk n (1-based), at most chunk n + 1 has been read from the client.
    assert [body for body, _ in taken] == [b"a", b"b", b"c"]
    assert all(handed <= n + 1 for n, (_, handed) in enumerate(taken, start=1))


async def test_requests_through_httpx_asgi_transport_complete_unchanged() -> None:
    async def body() -> AsyncIterator[bytes]:
        for chunk in (b"first ", b"second ", b"third"):
            yield chunk

    transport = httpx.ASGITransport(app=tiny_app(Handler()))
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
        response = await http.post("/echo", content=body())
    assert response.status_code == 200
    assert response.text == "first second third"


async def test_uvicorn_cancels_the_handler_when_the_client_closes_its_connection() -> None:
    handler = Handler()
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(tiny_app(handler), host="127.0.0.1", port=port, lifespan="off", log_level="warning")
    )
    serving = asyncio.create_task(server.serve())
    try:
        await wait_for_port("127.0.0.1", port, timeout=10)
        _, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(b"GET /wait HTTP/1.1\r\nHost: test\r\n\r\n")
        await writer.drain()
        await asyncio.wait_for(handler.started.wait(), 5)

        writer.close()
        await writer.wait_closed()
        await asyncio.wait_for(handler.cancelled.wait(), 5)
    finally:
        server.should_exit = True
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.wait_for(serving, 10)
