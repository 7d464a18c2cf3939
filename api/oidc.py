"""OpenID Connect bearer tokens: RS256/ES256 signatures checked against the provider's published keys (JWKS).

The keys are fetched with httpx's async client, never in the request's thread of control: a slow provider holds
no event-loop time and no thread-pool slot. They are cached; a token naming a key id we do not hold (the
provider rotated its keys) fetches them again, but at most once per `refetch_interval_seconds` and one fetch at a
time, so tokens with made-up key ids cannot make us hammer the provider. Parsing a JWK into a key is PyJWT's.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
import jwt

from api.auth import REQUIRED_CLAIMS, AuthError, Principal, decode_claims, principal_of
from api.errors import IdentityProviderUnavailableError

log = logging.getLogger(__name__)

#: The only algorithms an OpenID Connect token may be signed with: asymmetric, so no shared secret (HS*) and no
#: `none`; each key is bound to its algorithm, so a public key is never used as an HMAC secret.
ALGORITHMS = ("RS256", "ES256")
DISCOVERY_PATH = "/.well-known/openid-configuration"


@dataclass(frozen=True)
class OidcConfig:
    """Which provider issues our tokens and how its keys are kept."""

    #: The provider's issuer URL, exactly as its tokens' `iss` spell it.
    issuer: str
    #: The `aud` every token must name (the client id the provider issues tokens for).
    audience: str
    #: Where the keys are; None: the `jwks_uri` of `<issuer>/.well-known/openid-configuration`.
    jwks_url: str | None = None
    #: The claims that carry the role and the organization; a dotted name reaches into nested claims.
    role_claim: str = "role"
    org_claim: str = "org"
    #: Keys are fetched again when older than this (a key the provider withdrew stops working within it).
    keys_max_age_seconds: float = 600.0
    #: At most one fetch per this interval, whatever tokens arrive (unknown key ids, a provider that is down).
    refetch_interval_seconds: float = 10.0
    #: How long one fetch may take.
    timeout_seconds: float = 5.0


class _FetchFailedError(Exception):
    """The provider's discovery document or keys could not be had; the message says which and why (no token)."""


class JwksCache:
    """The provider's signing keys by key id, fetched on first use, when stale and when a token names a key we do not
    hold — at most once per refetch interval, one fetch at a time. While the provider is unreachable, the keys
    already held keep working."""

    def __init__(self, config: OidcConfig, http: httpx.AsyncClient, clock: Callable[[], float] = time.monotonic):
        self._config = config
        self._http = http
        self._clock = clock
        self._fetching: asyncio.Task[None] | None = None
        self._keys: dict[str, jwt.PyJWK] = {}
        self._jwks_url = config.jwks_url
        self._fetched_at: float | None = None
        self._last_attempt: float | None = None
        self._failing = False
        #: How many fetches of the key set were made (tests and operators read it).
        self.fetches = 0

    async def key(self, kid: str) -> jwt.PyJWK | None:
        """The key with this id; None if the provider does not publish it. IdentityProviderUnavailableError if the
        keys could not be fetched and we hold no such key."""
        if kid in self._keys and not self._stale():
            return self._keys[kid]
        if (self._fetching is None or self._fetching.done()) and self._wait() == 0:
            self._fetching = asyncio.create_task(self._refresh())
        if self._fetching is not None:
            # Every request that needs the keys waits for the one fetch; shielded, so a caller that goes away
            # (a client that disconnects) does not cancel it for the others.
            await asyncio.shield(self._fetching)
        if kid in self._keys:
            return self._keys[kid]
        if self._failing:
            raise IdentityProviderUnavailableError(
                "the identity provider's signing keys cannot be fetched now, so the bearer token cannot be "
                "verified; retry shortly",
                retry_after_seconds=max(1, math.ceil(self._wait())),
            )
        return None

    def _stale(self) -> bool:
        return self._fetched_at is None or self._clock() - self._fetched_at >= self._config.keys_max_age_seconds

    def _wait(self) -> float:
        """Seconds until the next fetch may start (0: now)."""
        if self._last_attempt is None:
            return 0.0
        return max(0.0, self._config.refetch_interval_seconds - (self._clock() - self._last_attempt))

    async def _refresh(self) -> None:
        self._last_attempt = self._clock()
        try:
            self._keys = await self._fetch()
        except _FetchFailedError as failure:
            self._failing = True
            log.warning("oidc.keys_unavailable: %s", failure)
            return
        self._fetched_at = self._last_attempt
        self._failing = False

    async def _fetch(self) -> dict[str, jwt.PyJWK]:
        self.fetches += 1
        url = self._jwks_url or await self._discover()
        document = await self._get_json(url)
        keys = document.get("keys")
        if not isinstance(keys, list):
            raise _FetchFailedError(f"{url} holds no 'keys' list")
        usable = usable_keys(keys)
        if not usable:
            log.warning("oidc.no_usable_keys: %s publishes no RS256 or ES256 signing key with a key id", url)
        return usable

    async def _discover(self) -> str:
        url = self._config.issuer.rstrip("/") + DISCOVERY_PATH
        document = await self._get_json(url)
        if document.get("issuer") != self._config.issuer:
            raise _FetchFailedError(f"{url} names another issuer than CLAIMFLOW_OIDC_ISSUER")
        jwks_uri = document.get("jwks_uri")
        if not isinstance(jwks_uri, str) or not jwks_uri:
            raise _FetchFailedError(f"{url} names no jwks_uri")
        self._jwks_url = jwks_uri
        return jwks_uri

    async def _get_json(self, url: str) -> dict[str, Any]:
        try:
            response = await self._http.get(url, headers={"Accept": "application/json"})
        except httpx.HTTPError as exc:
            raise _FetchFailedError(f"{url} did not answer ({type(exc).__name__})") from None
        if response.status_code != httpx.codes.OK:
            raise _FetchFailedError(f"{url} answered {response.status_code}")
        try:
            document = response.json()
        except ValueError:
            raise _FetchFailedError(f"{url} answered something that is not JSON") from None
        if not isinstance(document, dict):
            raise _FetchFailedError(f"{url} answered JSON that is not an object")
        return document


def usable_keys(jwks: list[Any]) -> dict[str, jwt.PyJWK]:
    """The signing keys of a JWKS that we accept, by key id: RS256 or ES256, with a `kid`, not for encryption."""
    keys: dict[str, jwt.PyJWK] = {}
    for entry in jwks:
        if not isinstance(entry, dict) or not isinstance(entry.get("kid"), str) or entry.get("use", "sig") != "sig":
            continue
        try:
            key = jwt.PyJWK(entry)
        except jwt.PyJWTError:
            continue
        if key.algorithm_name in ALGORITHMS:
            keys[entry["kid"]] = key
    return keys


class OidcTokens:
    """Bearer tokens from the OpenID Connect provider: signed RS256 or ES256 with a key it publishes, for our audience,
    with the same time and lifetime rules as every token; the role and organization come from configurable claims."""

    def __init__(
        self, config: OidcConfig, *, http: httpx.AsyncClient | None = None, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._config = config
        self._http = http or httpx.AsyncClient(timeout=config.timeout_seconds, follow_redirects=False)
        self.keys = JwksCache(config, self._http, clock)

    async def verify(self, token: str) -> Principal:
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError:
            raise AuthError("invalid bearer token: it is malformed") from None
        algorithm = header.get("alg")
        if algorithm not in ALGORITHMS:
            shared = isinstance(algorithm, str) and algorithm.upper().startswith("HS")
            raise AuthError(
                "invalid bearer token: this API takes tokens from its OpenID Connect provider, signed RS256 or ES256"
                + ("; a token signed with a shared secret (HS256) is refused" if shared else "")
            )
        kid = header.get("kid")
        if not isinstance(kid, str) or not kid:
            raise AuthError("invalid bearer token: its header names no signing key (kid)")
        key = await self.keys.key(kid)
        if key is None:
            raise AuthError("invalid bearer token: it is signed with a key the identity provider does not publish")
        claims = decode_claims(
            token,
            key,
            algorithms=[algorithm],
            issuer=self._config.issuer,
            audience=self._config.audience,
            required=REQUIRED_CLAIMS,
            signer="the identity provider's key",
            strict_key=True,
        )
        return principal_of(claims, role_claim=self._config.role_claim, org_claim=self._config.org_claim)

    async def aclose(self) -> None:
        await self._http.aclose()
