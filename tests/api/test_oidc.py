"""OpenID Connect tokens, verified against a real provider over HTTP: keys discovered, cached and rotated, unknown key
ids refetched at most once per interval, every time and audience rule, HS256 refused, a provider that is down 503."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.client import Client

from api.app import create_app
from api.auth import AuthError, Role
from api.deps import ApiConfig
from api.errors import IdentityProviderUnavailableError
from api.oidc import OidcConfig, OidcTokens
from tests.support.oidc_provider import Provider, new_key, oidc_provider
from tests.support.stack import config_for_tests, token
from workers.api_config import api_config
from workers.settings import Settings


class Clock:
    """A monotonic clock the test moves."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
async def provider() -> AsyncIterator[Provider]:
    async with oidc_provider() as running:
        yield running


def config_for(provider: Provider, **changes: object) -> OidcConfig:
    return replace(OidcConfig(issuer=provider.issuer, audience="claimflow-api"), **changes)  # type: ignore[arg-type]


@asynccontextmanager
async def tokens_for(config: OidcConfig, clock: Clock | None = None) -> AsyncIterator[OidcTokens]:
    tokens = OidcTokens(config, clock=clock or Clock())
    try:
        yield tokens
    finally:
        await tokens.aclose()


async def refused(tokens: OidcTokens, token_text: str) -> str:
    with pytest.raises(AuthError) as error:
        await tokens.verify(token_text)
    return str(error.value)


@pytest.mark.parametrize("algorithm", ["RS256", "ES256"])
async def test_a_token_signed_with_a_published_key_reads_as_its_principal(provider: Provider, algorithm: str) -> None:
    kid = provider.rotate(algorithm)
    async with tokens_for(config_for(provider)) as tokens:
        principal = await tokens.verify(provider.sign(kid))
    assert (principal.sub, principal.role, principal.org) == ("ana@lab.example", Role.SUBMITTER, "lab")
    assert (provider.hits["discovery"], provider.hits["jwks"]) == (1, 1)


async def test_keys_are_cached_and_a_configured_jwks_url_needs_no_discovery(provider: Provider) -> None:
    kid = next(iter(provider.keys))
    async with tokens_for(config_for(provider, jwks_url=provider.jwks_url)) as tokens:
        for _ in range(5):
            await tokens.verify(provider.sign(kid))
    assert (provider.hits["discovery"], provider.hits["jwks"]) == (0, 1)


async def test_the_role_and_organization_come_from_the_configured_claims(provider: Provider) -> None:
    kid = next(iter(provider.keys))
    config = config_for(provider, role_claim="realm_access.roles", org_claim="tenant")
    signed = provider.sign(
        kid, role=None, org=None, realm_access={"roles": ["offline_access", "adjuster"]}, tenant="t1"
    )
    async with tokens_for(config) as tokens:
        principal = await tokens.verify(signed)
        assert (principal.role, principal.org) == (Role.ADJUSTER, "t1")
        # The default claim names mean nothing under this configuration.
        assert "its role is none of" in await refused(tokens, provider.sign(kid, role="adjuster"))


async def test_rotated_keys_are_picked_up_and_withdrawn_keys_stop_working(provider: Provider) -> None:
    clock = Clock()
    old = next(iter(provider.keys))
    async with tokens_for(config_for(provider, refetch_interval_seconds=10), clock) as tokens:
        assert (await tokens.verify(provider.sign(old))).sub == "ana@lab.example"
        old_token = provider.sign(old)
        new = provider.rotate("ES256")
        clock.now += 11
        assert (await tokens.verify(provider.sign(new, sub="ben"))).sub == "ben"
        assert provider.hits["jwks"] == 2
        assert "does not publish" in await refused(tokens, old_token)


async def test_unknown_key_ids_fetch_the_keys_at_most_once_per_interval(provider: Provider) -> None:
    clock = Clock()
    kid = next(iter(provider.keys))
    async with tokens_for(config_for(provider, refetch_interval_seconds=30), clock) as tokens:
        await tokens.verify(provider.sign(kid))
        stranger = new_key("RS256")
        for _ in range(20):
            made_up = provider.sign(uuid.uuid4().hex, key=stranger, algorithm="RS256")
            assert "does not publish" in await refused(tokens, made_up)
        assert provider.hits["jwks"] == 1
        clock.now += 31
        assert "does not publish" in await refused(tokens, provider.sign("another", key=stranger, algorithm="RS256"))
        assert provider.hits["jwks"] == 2


async def test_requests_arriving_together_share_one_fetch(provider: Provider) -> None:
    kid = next(iter(provider.keys))
    async with tokens_for(config_for(provider)) as tokens:
        principals = await asyncio.gather(*(tokens.verify(provider.sign(kid, sub=f"u{n}")) for n in range(20)))
    assert len({p.sub for p in principals}) == 20
    assert (provider.hits["discovery"], provider.hits["jwks"]) == (1, 1)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"now": datetime.now(UTC) - timedelta(hours=1)}, "has expired"),
        ({"aud": "another-client"}, "not meant for this API"),
        ({"iss": "https://someone-else.example"}, "issued by someone else"),
        ({"lifetime": timedelta(hours=13)}, "lives longer than 12 hours"),
        ({"iat": None}, "no 'iat' claim"),
        ({"role": "root"}, "its role is none of"),
        ({"org": None}, "must name its organization"),
    ],
)
async def test_a_token_breaking_a_rule_is_refused(provider: Provider, changes: dict[str, object], message: str) -> None:
    kid = next(iter(provider.keys))
    async with tokens_for(config_for(provider)) as tokens:
        assert message in await refused(tokens, provider.sign(kid, **changes))  # type: ignore[arg-type]


async def test_a_token_signed_by_another_key_under_a_published_kid_is_refused(provider: Provider) -> None:
    kid = next(iter(provider.keys))
    async with tokens_for(config_for(provider)) as tokens:
        forged = provider.sign(kid, key=new_key("RS256"), algorithm="RS256", role="admin")
        assert "not signed with the identity provider's key" in await refused(tokens, forged)


async def test_hs256_none_and_algorithm_confusion_are_refused(provider: Provider) -> None:
    kid = next(iter(provider.keys))
    _, private = provider.keys[kid]
    public_pem = private.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    claims = jwt.decode(provider.sign(kid), options={"verify_signature": False})
    async with tokens_for(config_for(provider)) as tokens:
        # A dev token signed with the shared secret, and one "signed" with the provider's public key as HMAC secret.
        assert "shared secret (HS256) is refused" in await refused(tokens, token(Role.ADMIN))
        hmac_with_public_key = _hmac_token(claims, public_pem, kid)
        assert "shared secret (HS256) is refused" in await refused(tokens, hmac_with_public_key)
        unsigned = jwt.encode(claims, "", algorithm="none", headers={"kid": kid})
        assert "signed RS256 or ES256" in await refused(tokens, unsigned)


def _hmac_token(claims: dict[str, object], secret: bytes, kid: str) -> str:
    """HS256 over the claims with `secret` (PyJWT refuses a PEM as an HMAC key, so sign by hand as an attacker would)."""

    def b64(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

    header = b64(json.dumps({"alg": "HS256", "typ": "JWT", "kid": kid}).encode())
    payload = b64(json.dumps(claims).encode())
    signature = hmac.new(secret, f"{header}.{payload}".encode(), hashlib.sha256).digest()
    return f"{header}.{payload}.{b64(signature)}"


async def test_a_provider_that_is_down_is_503_until_it_is_back(provider: Provider) -> None:
    clock = Clock()
    kid = next(iter(provider.keys))
    await provider.stop()
    async with tokens_for(config_for(provider, refetch_interval_seconds=10), clock) as tokens:
        with pytest.raises(IdentityProviderUnavailableError) as down:
            await tokens.verify(provider.sign(kid))
        assert down.value.retry_after_seconds == 10
        assert "cannot be fetched" in down.value.message
        await provider.start()
        clock.now += 4  # within the interval: no new fetch, still unavailable, retry after what is left of it
        with pytest.raises(IdentityProviderUnavailableError) as still:
            await tokens.verify(provider.sign(kid))
        assert still.value.retry_after_seconds == 6
        assert provider.hits["discovery"] == 0
        clock.now += 6
        assert (await tokens.verify(provider.sign(kid))).org == "lab"


async def test_keys_already_held_keep_working_while_the_provider_is_down(provider: Provider) -> None:
    clock = Clock()
    kid = next(iter(provider.keys))
    async with tokens_for(config_for(provider, keys_max_age_seconds=60), clock) as tokens:
        await tokens.verify(provider.sign(kid))
        await provider.stop()
        clock.now += 120  # the keys are stale; fetching them again fails
        assert (await tokens.verify(provider.sign(kid, sub="ben"))).sub == "ben"
        assert tokens.keys.fetches == 2


# Over the API.


CONFIG = config_for_tests()


@asynccontextmanager
async def api_for(
    config: ApiConfig, temporal: Client, sessions: async_sessionmaker[AsyncSession]
) -> AsyncIterator[httpx.AsyncClient]:
    async def connect() -> Client:
        return temporal

    app = create_app(config, connect, sessions)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://claimflow.test") as api,
    ):
        yield api


async def test_over_the_api_oidc_tokens_pass_hs256_tokens_are_401_and_a_down_provider_is_503(
    provider: Provider, temporal: Client, sessions: async_sessionmaker[AsyncSession]
) -> None:
    kid = next(iter(provider.keys))
    config = replace(CONFIG, oidc=config_for(provider))
    async with api_for(config, temporal, sessions) as api:
        listed = await api.get("/v1/claims", headers={"Authorization": f"Bearer {provider.sign(kid)}"})
        assert listed.status_code == 200, listed.text
        shared = await api.get("/v1/claims", headers={"Authorization": f"Bearer {token(Role.SUBMITTER)}"})
        assert shared.status_code == 401
        assert shared.json()["code"] == "unauthorized"
        assert "shared secret (HS256) is refused" in shared.json()["detail"]
    await provider.stop()
    async with api_for(config, temporal, sessions) as api:
        down = await api.get("/v1/claims", headers={"Authorization": f"Bearer {provider.sign(kid)}"})
    assert down.status_code == 503
    assert down.headers["content-type"] == "application/problem+json"
    assert down.json()["code"] == "identity_provider_unavailable"
    assert int(down.headers["Retry-After"]) >= 1


async def test_without_oidc_the_api_keeps_taking_hs256_tokens(
    temporal: Client, sessions: async_sessionmaker[AsyncSession]
) -> None:
    async with api_for(CONFIG, temporal, sessions) as api:
        listed = await api.get("/v1/claims", headers={"Authorization": f"Bearer {token(Role.SUBMITTER)}"})
    assert listed.status_code == 200, listed.text


def test_settings_turn_oidc_on_with_an_issuer_and_production_wants_https() -> None:
    assert api_config(Settings(_env_file=None)).oidc is None
    on = api_config(Settings(_env_file=None, oidc_issuer="https://id.example", oidc_role_claim="groups")).oidc
    assert on is not None
    assert (on.issuer, on.audience, on.jwks_url, on.role_claim, on.org_claim) == (
        "https://id.example",
        "claimflow-api",
        None,
        "groups",
        "org",
    )
    with pytest.raises(ValueError, match="CLAIMFLOW_OIDC_ISSUER must be an https:// URL in production"):
        Settings(
            _env_file=None,
            environment="production",
            oidc_issuer="http://id.example",
            jwt_secret="j" * 40,
            webhook_secret="w" * 40,
            database_url="postgresql://claimflow@db.example/claimflow?sslmode=require",
            processor_url="https://processor.example",
            public_api_url="https://api.example",
        )
