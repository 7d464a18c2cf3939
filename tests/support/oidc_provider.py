"""A small OpenID Connect provider for tests: discovery and a JWKS over real HTTP on a free port, with keys made here."""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from jwt.algorithms import ECAlgorithm, RSAAlgorithm
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from api.auth import AUDIENCE
from tests.support.stack import free_port
from workers.servers import EmbeddedServer, embedded
from workers.temporal_server import wait_for_port

PrivateKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey


def new_key(algorithm: str) -> PrivateKey:
    """A fresh signing key: RSA 2048 for RS256, P-256 for ES256."""
    if algorithm == "RS256":
        return rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return ec.generate_private_key(ec.SECP256R1())


class Provider:
    """The provider's state: the keys it publishes (by kid) and how often each path was fetched."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.issuer = f"http://127.0.0.1:{port}"
        self.jwks_url = f"{self.issuer}/jwks"
        self.keys: dict[str, tuple[str, PrivateKey]] = {}
        self.hits: Counter[str] = Counter()
        self._server: EmbeddedServer | None = None
        self._task: asyncio.Task[None] | None = None

    def add_key(self, algorithm: str = "RS256", kid: str | None = None) -> str:
        """Publish a new key; its kid."""
        kid = kid or uuid.uuid4().hex[:12]
        self.keys[kid] = (algorithm, new_key(algorithm))
        return kid

    def rotate(self, algorithm: str = "RS256") -> str:
        """Withdraw every key and publish a new one; its kid."""
        self.keys.clear()
        return self.add_key(algorithm)

    def sign(
        self,
        kid: str,
        *,
        key: PrivateKey | None = None,
        algorithm: str | None = None,
        now: datetime | None = None,
        lifetime: timedelta = timedelta(minutes=5),
        **claims: Any,
    ) -> str:
        """A token signed with the key `kid` (or `key`, under that kid), with these claims over the defaults."""
        published_algorithm, published_key = self.keys.get(kid, ("RS256", None))
        issued = now or datetime.now(UTC)
        body: dict[str, Any] = {
            "sub": "ana@lab.example",
            "role": "submitter",
            "org": "lab",
            "iss": self.issuer,
            "aud": AUDIENCE,
            "iat": issued,
            "exp": issued + lifetime,
        }
        body.update(claims)
        body = {name: value for name, value in body.items() if value is not None}
        signing_key = key or published_key
        assert signing_key is not None, f"no key {kid}"
        return jwt.encode(body, signing_key, algorithm=algorithm or published_algorithm, headers={"kid": kid})

    def _jwks(self) -> dict[str, Any]:
        keys = []
        for kid, (algorithm, private) in self.keys.items():
            public = private.public_key()
            jwk = (
                RSAAlgorithm.to_jwk(public, as_dict=True)
                if isinstance(public, rsa.RSAPublicKey)
                else ECAlgorithm.to_jwk(public, as_dict=True)
            )
            keys.append({**jwk, "kid": kid, "use": "sig", "alg": algorithm})
        return {"keys": keys}

    def app(self) -> Starlette:
        async def discovery(request: Request) -> JSONResponse:
            self.hits["discovery"] += 1
            return JSONResponse({"issuer": self.issuer, "jwks_uri": self.jwks_url})

        async def jwks(request: Request) -> JSONResponse:
            self.hits["jwks"] += 1
            return JSONResponse(self._jwks())

        return Starlette(
            routes=[Route("/.well-known/openid-configuration", discovery), Route("/jwks", jwks)],
        )

    async def start(self) -> None:
        self._server = embedded(self.app(), "127.0.0.1", self.port)
        self._task = asyncio.create_task(self._server.serve())
        await wait_for_port("127.0.0.1", self.port, timeout=10)

    async def stop(self) -> None:
        """Take the provider down: its port refuses connections until start()."""
        if self._server is not None and self._task is not None:
            self._server.should_exit = True
            await self._task
            self._server = self._task = None


@asynccontextmanager
async def oidc_provider() -> AsyncIterator[Provider]:
    """A provider on a free port, publishing one RS256 key."""
    provider = Provider(free_port())
    provider.add_key("RS256")
    await provider.start()
    try:
        yield provider
    finally:
        await provider.stop()
