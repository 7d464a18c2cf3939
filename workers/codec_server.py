"""The codec server: Temporal's remote codec protocol (POST …/encode, …/decode) for the Temporal UI and CLI, for operators.

The protocol (Temporal's codec server protocol): the body is a `Payloads` message in protobuf's JSON form, the
answer the same with each payload encoded or decoded; only the last part of the path counts, so the endpoints may
be mounted under any prefix (a namespace's, say). Payloads are encrypted claim data, so only an operator may have
them decoded: a bearer token of the API's (or the API's OpenID Connect provider's) with the admin role. The UI sends
its own access token with "pass access token"; a UI without sign-in (the dev server's) can use a session cookie
instead: open this server's page and paste an admin token, then in the UI's Codec Server settings (the glasses icon)
choose "use my browser setting", enter this server's address and turn on "include cross-origin credentials". Browsers may call it only from the configured UI origins (CORS, preflight included). Errors are
problem JSON; nothing of a payload is logged.
"""

from __future__ import annotations

import html
import logging
import secrets
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Annotated
from urllib.parse import parse_qs

import jwt
from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import HTMLResponse, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from google.protobuf import json_format
from temporalio.api.common.v1 import Payloads
from temporalio.converter import PayloadCodec

from api import errors
from api.auth import AuthError, Principal, Role, SharedSecretTokens, TokenVerifier
from api.errors import NotAuthenticatedError
from api.oidc import OidcTokens
from domain.errors import DomainError
from services.errors import ForbiddenError
from workers.api_config import oidc_config
from workers.payload_codec import codec_from_settings
from workers.servers import embedded
from workers.settings import ConfigurationError, Environment, Settings

__all__ = ["SESSION_COOKIE", "codec_app_from_settings", "create_codec_app", "run_codec_server", "token_verifier"]

log = logging.getLogger("claimflow.codec_server")

#: The cookie that names a browser session opened with an operator's token (an opaque id, never the token).
SESSION_COOKIE = "claimflow_codec_session"
#: The most a request may carry: the UI sends a workflow's payloads in batches well under this.
MAX_BODY_BYTES = 16 * 1024 * 1024
#: The roles that may have payloads decoded or encoded.
OPERATOR_ROLES = frozenset({Role.ADMIN})


class InvalidPayloadsError(DomainError):
    """The body is not a Payloads message in protobuf JSON, or a payload in it cannot be decoded (400, as the
    protocol says)."""

    code = "invalid_payloads"


class BodyTooLargeError(DomainError):
    """The body is over MAX_BODY_BYTES (413)."""

    code = "body_too_large"


@dataclass
class Sessions:
    """Browser sessions opened with an operator's token: opaque ids, kept in memory, ending when the token does."""

    opened: dict[str, tuple[Principal, float]] = field(default_factory=dict)

    def open(self, principal: Principal, expires_at: float) -> str:
        now = time.time()
        self.opened = {sid: entry for sid, entry in self.opened.items() if entry[1] > now}
        session_id = secrets.token_urlsafe(32)
        self.opened[session_id] = (principal, expires_at)
        return session_id

    def principal(self, session_id: str) -> Principal | None:
        entry = self.opened.get(session_id)
        if entry is None or entry[1] <= time.time():
            return None
        return entry[0]


@dataclass
class CodecServer:
    """What the routes use, held in the app's state."""

    codec: PayloadCodec
    tokens: TokenVerifier
    secure_cookie: bool
    sessions: Sessions = field(default_factory=Sessions)


def create_codec_app(
    codec: PayloadCodec, tokens: TokenVerifier, *, ui_origins: Sequence[str], secure_cookie: bool = False
) -> FastAPI:
    """The codec server for `codec`, admitting operators whose tokens `tokens` verifies, to browsers at `ui_origins`."""
    app = FastAPI(
        title="claimflow codec server",
        summary="Decodes encrypted Temporal payloads for the Temporal UI and CLI; operators only.",
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
    )
    app.state.codec_server = CodecServer(codec, tokens, secure_cookie)
    errors.install(app)
    app.add_exception_handler(BodyTooLargeError, _too_large)
    app.include_router(router)
    app.add_middleware(
        CORSMiddleware,
        allow_origins=list(ui_origins),
        allow_methods=["POST"],
        allow_headers=["Authorization", "Content-Type", "X-Namespace"],
        allow_credentials=True,  # the session cookie of a UI without sign-in
        max_age=600,
    )
    return app


async def _too_large(_: Request, exc: Exception) -> Response:
    return errors.problem(413, "body_too_large", "Request body too large", str(exc))


async def get_server(request: Request) -> CodecServer:
    server: CodecServer = request.app.state.codec_server
    return server


ServerDep = Annotated[CodecServer, Depends(get_server)]
bearer = HTTPBearer(auto_error=False)


async def operator(
    request: Request,
    server: ServerDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> Principal:
    """The caller: by bearer token, else by session cookie; an operator, or 401/403."""
    if credentials is not None and credentials.scheme.lower() == "bearer":
        principal = await _verified(server.tokens, credentials.credentials)
    else:
        found = server.sessions.principal(request.cookies.get(SESSION_COOKIE, ""))
        if found is None:
            raise NotAuthenticatedError(
                "send 'Authorization: Bearer <admin token>' (the Temporal UI's \"pass access token\"), or open a "
                "session on this server's page; mint a local token with `claimflow token --role admin`",
                challenge="Bearer",
            )
        principal = found
    if principal.role not in OPERATOR_ROLES:
        raise ForbiddenError(f"decoding payloads needs the admin role; your token has {principal.role.value}")
    return principal


Operator = Annotated[Principal, Depends(operator)]
router = APIRouter(include_in_schema=False)


@router.post("/decode")
@router.post("/{prefix:path}/decode")
async def decode(request: Request, server: ServerDep, principal: Operator) -> Response:
    return await _transform(request, server.codec, principal, "decode")


@router.post("/encode")
@router.post("/{prefix:path}/encode")
async def encode(request: Request, server: ServerDep, principal: Operator) -> Response:
    return await _transform(request, server.codec, principal, "encode")


@router.get("/")
async def page() -> HTMLResponse:
    return HTMLResponse(_PAGE.format(message=""))


@router.post("/session")
async def open_session(request: Request, server: ServerDep) -> HTMLResponse:
    """A browser session for a UI that cannot pass a token: the form's admin token, exchanged for a cookie."""
    form = parse_qs((await _body(request)).decode("utf-8", errors="replace"))
    token = (form.get("token") or [""])[0].strip()
    principal = await _verified(server.tokens, token)
    if principal.role not in OPERATOR_ROLES:
        raise ForbiddenError(f"a session needs the admin role; this token has {principal.role.value}")
    expires_at = _expiry(token)
    answer = HTMLResponse(
        _PAGE.format(
            message=f"<p>Signed in as <b>{html.escape(principal.sub)}</b>. For the Temporal UI in this browser to "
            "decode payloads, open its Codec Server settings (the glasses icon at the top), choose &ldquo;Use my "
            "browser setting&rdquo;, enter this server's address and turn on &ldquo;Include cross-origin "
            "credentials&rdquo;.</p>"
        )
    )
    answer.set_cookie(
        SESSION_COOKIE,
        server.sessions.open(principal, expires_at),
        max_age=max(int(expires_at - time.time()), 0),
        httponly=True,
        samesite="strict",
        secure=server.secure_cookie,
    )
    return answer


async def _transform(request: Request, codec: PayloadCodec, principal: Principal, direction: str) -> Response:
    payloads = _parse(await _body(request))
    try:
        if direction == "decode":
            done = await codec.decode(list(payloads.payloads))
        else:
            done = await codec.encode(list(payloads.payloads))
    except ValueError as exc:  # the codec's refusals name key ids, never data
        raise InvalidPayloadsError(f"cannot {direction} the payloads: {exc}") from None
    log.info(
        "codec.%sd",
        direction,
        extra={"sub": principal.sub, "payloads": len(done), "namespace": request.headers.get("X-Namespace")},
    )
    body = json_format.MessageToJson(Payloads(payloads=done), indent=None)
    return Response(body, media_type="application/json", headers={"Cache-Control": "no-store"})


async def _verified(tokens: TokenVerifier, token: str) -> Principal:
    try:
        return await tokens.verify(token)
    except AuthError as exc:
        raise NotAuthenticatedError(str(exc), challenge='Bearer error="invalid_token"') from exc


async def _body(request: Request) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        raise BodyTooLargeError(f"the body may be at most {MAX_BODY_BYTES} bytes")
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_BODY_BYTES:
            raise BodyTooLargeError(f"the body may be at most {MAX_BODY_BYTES} bytes")
    return body


def _parse(body: bytes) -> Payloads:
    try:
        return json_format.Parse(body, Payloads())
    except (json_format.ParseError, UnicodeDecodeError, ValueError):
        raise InvalidPayloadsError(
            'the body must be a Payloads message in protobuf JSON: {"payloads": [{"metadata": {…}, "data": "…"}]}'
        ) from None


def _expiry(token: str) -> float:
    """The verified token's expiry time (its `exp` claim, read without checking again)."""
    claims = jwt.decode(token, options={"verify_signature": False})
    return float(claims["exp"])


_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>claimflow codec server</title></head>
<body style="font-family: sans-serif; max-width: 40em; margin: 2em auto">
<h1>claimflow codec server</h1>
<p>Decodes claimflow's encrypted Temporal payloads for the Temporal UI, for operators (the admin role).</p>
{message}
<form method="post" action="session">
<p><label>Admin token (<code>claimflow token --role admin</code>):<br>
<input type="password" name="token" size="60" autocomplete="off"></label></p>
<p><button type="submit">Open a session in this browser</button></p>
</form>
</body></html>
"""


def token_verifier(settings: Settings) -> TokenVerifier:
    """The API's: tokens of its OpenID Connect provider when one is configured, else HS256 with the shared secret."""
    oidc = oidc_config(settings)
    if oidc is not None:
        return OidcTokens(oidc)
    return SharedSecretTokens(secret=settings.jwt_secret, issuer=settings.jwt_issuer)


def codec_app_from_settings(settings: Settings, tokens: TokenVerifier) -> FastAPI:
    """The codec server for the configured payload keys and UI origins, admitting the operators `tokens` verifies;
    refused when payload encryption is off."""
    codec = codec_from_settings(settings)
    if codec is None:
        raise ConfigurationError(
            "payload encryption is off, so there is nothing to decode: set CLAIMFLOW_PAYLOAD_ENCRYPTION=true "
            "(and the keys the workers use, CLAIMFLOW_PAYLOAD_KEYS or CLAIMFLOW_PAYLOAD_KEY_FILES)"
        )
    return create_codec_app(
        codec,
        tokens,
        ui_origins=settings.codec_server_origins,
        secure_cookie=settings.codec_server_tls is not None or settings.environment is Environment.PRODUCTION,
    )


async def run_codec_server(settings: Settings) -> None:
    """`claimflow codec-server`: serve until Ctrl-C or SIGTERM."""
    from workers.run import serve_until_stopped

    tokens = token_verifier(settings)  # made on the running loop: an OpenID Connect verifier's HTTP client lives there
    try:
        app = codec_app_from_settings(settings, tokens)
        tls = settings.codec_server_tls
        await serve_until_stopped(embedded(app, settings.codec_server_host, settings.codec_server_port, tls=tls))
    finally:
        await tokens.aclose()
