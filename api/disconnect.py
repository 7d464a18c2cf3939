"""A request whose client went away stops: its handler is cancelled instead of finishing for nobody."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable
from typing import Any, TypeVar

from starlette.types import ASGIApp, Message, Receive, Scope, Send

T = TypeVar("T")

log = logging.getLogger(__name__)


class CancelOnDisconnect:
    """ASGI middleware: cancel an HTTP request's handler when the client disconnects before the response starts.

    A reader task takes the server's receive() messages and hands them to the app through a queue,
    so a disconnect is seen while the handler is busy elsewhere (waiting for Temporal, say). While
    the body streams in, the reader waits for the app to take each chunk before it reads the next,
    so it is never more than one chunk ahead of the app. Once `http.response.start` is on its way the handler is never cancelled: the
    disconnect is passed on through receive(), as the app would have seen it anyway.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        await _Exchange(receive, send).run(self.app, scope)


class _Exchange:
    """One HTTP request's messages between the server and the app."""

    def __init__(self, receive: Receive, send: Send) -> None:
        self._client_receive = receive
        self._client_send = send
        self._messages: asyncio.Queue[Message | Exception] = asyncio.Queue()
        #: What ended the client's side (its disconnect, or the error its receive() raised); repeated to the app.
        self._last: Message | Exception | None = None
        self._response_started = False
        self._abandoned = False
        self._handler: asyncio.Future[None] | None = None

    async def run(self, app: ASGIApp, scope: Scope) -> None:
        self._handler = asyncio.ensure_future(app(scope, self.receive, self.send))
        reader = asyncio.create_task(self._read_client())
        try:
            await self._handler
        except BaseException:
            this = asyncio.current_task()
            if self._abandoned and not (this is not None and this.cancelling()):
                return  # the client left before any answer; whatever the handler ended with, nobody is listening
            raise
        finally:
            reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await reader

    async def receive(self) -> Message:
        """The app's receive(): the client's messages in order; after the last one, that one again."""
        if self._messages.empty() and self._last is not None:
            item = self._last
        else:
            item = await self._messages.get()
            self._messages.task_done()
        if isinstance(item, Exception):
            raise item
        return item

    async def send(self, message: Message) -> None:
        if self._abandoned:
            return  # the handler was cancelled because the client left; there is no one to answer
        if message["type"] == "http.response.start":
            self._response_started = True
        await self._client_send(message)

    async def _read_client(self) -> None:
        while True:
            try:
                message = await self._client_receive()
            except Exception as exc:  # the app sees it from its own receive(), as it would have
                self._last = exc
                self._messages.put_nowait(exc)
                return
            self._messages.put_nowait(message)
            if message["type"] == "http.disconnect":
                self._last = message
                if not self._response_started and self._handler is not None:
                    self._abandoned = True
                    self._handler.cancel()
                return
            if message.get("more_body", False):
                await self._messages.join()  # the app takes each body chunk before the next is read


#: Work whose request was cancelled, kept referenced until it ends (the event loop holds tasks weakly).
_left_running: set[asyncio.Task[Any]] = set()


async def even_if_client_leaves(work: Awaitable[T]) -> T:
    """Await `work` and let it run to its end even if the request is cancelled meanwhile.

    For steps that must not stop halfway, such as starting the workflow of a claim whose intake was
    just committed. `work` must bound its own time (a timeout), since nobody may be waiting for it.
    """
    task = asyncio.ensure_future(work)
    try:
        return await asyncio.shield(task)
    except asyncio.CancelledError:
        _left_running.add(task)
        task.add_done_callback(_ended_alone)
        raise


def _ended_alone(task: asyncio.Task[Any]) -> None:
    _left_running.discard(task)
    if not task.cancelled() and (error := task.exception()) is not None:
        log.warning("request.work_failed_after_client_left", exc_info=error)
