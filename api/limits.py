"""Request body size limit: a body over the limit is refused with 413 before it is read whole."""

from __future__ import annotations

import json
import re

from starlette.types import ASGIApp, Message, Receive, Scope, Send


class BodyTooLarge(Exception):
    pass


class BodySizeLimit:
    """ASGI middleware: answer 413 when Content-Length or the streamed body exceeds max_bytes."""

    def __init__(self, app: ASGIApp, max_bytes: int, *, own_limits: re.Pattern[str] | None = None) -> None:
        self.app = app
        self.max_bytes = max_bytes
        #: Paths whose routes enforce a limit of their own as the body streams in (document uploads).
        self.own_limits = own_limits

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or (self.own_limits is not None and self.own_limits.fullmatch(scope["path"])):
            await self.app(scope, receive, send)
            return
        for name, value in scope.get("headers", []):
            if name == b"content-length" and value.isdigit() and int(value) > self.max_bytes:
                await self._refuse(send)
                return
        seen = 0
        started = False

        async def limited_receive() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_bytes:
                    raise BodyTooLarge
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, limited_receive, tracking_send)
        except BodyTooLarge:
            if not started:
                await self._refuse(send)

    async def _refuse(self, send: Send) -> None:
        body = json.dumps(
            {
                "type": "https://claimflow.dev/problems/body_too_large",
                "title": "Request body too large",
                "status": 413,
                "detail": f"the request body is over {self.max_bytes} bytes; a claim is at most 50 lines",
                "code": "body_too_large",
                "errors": [{"path": "body", "message": f"at most {self.max_bytes} bytes", "rule": "body_too_large"}],
            }
        ).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [
                    (b"content-type", b"application/problem+json"),
                    (b"content-length", str(len(body)).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})
