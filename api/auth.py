"""Bearer JWT authentication: who is calling, with which role, for which organization."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

import jwt

from services.access import Principal, Role

__all__ = [
    "ALGORITHM",
    "AuthError",
    "Principal",
    "Role",
    "SharedSecretTokens",
    "TokenVerifier",
    "decode_claims",
    "mint_token",
    "principal_of",
    "read_token",
]

ALGORITHM = "HS256"
#: The audience every token must name: a token minted for another service is no key to this one.
AUDIENCE = "claimflow-api"
#: The longest a token may live (exp - iat); a longer one is refused, however it was signed.
MAX_LIFETIME = timedelta(hours=12)
#: Clock skew tolerated between the minting machine and this one.
LEEWAY = timedelta(seconds=60)
#: Every token names these; an OpenID Connect token's role and organization claims are checked by principal_of.
REQUIRED_CLAIMS = ["sub", "iss", "aud", "iat", "exp"]
ROLE_NAMES = frozenset(role.value for role in Role)


class AuthError(Exception):
    """The token is missing, malformed, expired or signed with another key; the message is ours, never the library's."""


class TokenVerifier(Protocol):
    """Turns a bearer token into the principal it names, or raises AuthError."""

    async def verify(self, token: str) -> Principal: ...

    async def aclose(self) -> None: ...


def mint_token(
    *, sub: str, role: Role, org: str | None, secret: str, issuer: str, ttl: timedelta, now: datetime | None = None
) -> str:
    """Sign a token for the given subject and role, for this API, living `ttl` (at most MAX_LIFETIME)."""
    if ttl > MAX_LIFETIME:
        raise ValueError(f"a token lives at most {MAX_LIFETIME.total_seconds() / 3600:g} hours")
    issued = now or datetime.now(UTC)
    claims: dict[str, object] = {
        "sub": sub,
        "role": role.value,
        "iss": issuer,
        "aud": AUDIENCE,
        "iat": issued,
        "exp": issued + ttl,
    }
    if org:
        claims["org"] = org
    return jwt.encode(claims, secret, algorithm=ALGORITHM)


def read_token(token: str, *, secret: str, issuer: str) -> Principal:
    """Verify an HS256 token signed with the shared secret (signature, issuer, audience, times, lifetime); return
    the principal."""
    claims = decode_claims(
        token,
        secret,
        algorithms=[ALGORITHM],
        issuer=issuer,
        audience=AUDIENCE,
        required=[*REQUIRED_CLAIMS, "role"],
        signer="this API's key",
    )
    return principal_of(claims, role_claim="role", org_claim="org")


class SharedSecretTokens:
    """HS256 tokens signed with CLAIMFLOW_JWT_SECRET: dev, tests and `claimflow token`."""

    def __init__(self, *, secret: str, issuer: str) -> None:
        self._secret = secret
        self._issuer = issuer

    async def verify(self, token: str) -> Principal:
        return read_token(token, secret=self._secret, issuer=self._issuer)

    async def aclose(self) -> None:
        return None


def decode_claims(
    token: str,
    key: Any,
    *,
    algorithms: Sequence[str],
    issuer: str,
    audience: str,
    required: Sequence[str],
    signer: str,
    strict_key: bool = False,
) -> dict[str, Any]:
    """Verify signature, issuer, audience, issue and expiry times and lifetime; the claims, or AuthError in our
    words. `signer` names the key a bad signature was not made with ("this API's key"); `strict_key` refuses keys
    below the algorithm's minimum length (an RSA key under 2048 bits) instead of warning."""
    try:
        claims: dict[str, Any] = jwt.decode(
            token,
            key,
            algorithms=list(algorithms),
            issuer=issuer,
            audience=audience,
            leeway=LEEWAY,
            options={"require": list(required), "enforce_minimum_key_length": strict_key},
        )
    except jwt.ExpiredSignatureError:
        raise AuthError("the bearer token has expired; get a new one") from None
    except jwt.MissingRequiredClaimError as missing:
        raise AuthError(f"invalid bearer token: it has no '{missing.claim}' claim") from None
    except jwt.InvalidAudienceError:
        raise AuthError(f"invalid bearer token: it is not meant for this API (aud must be {audience})") from None
    except jwt.InvalidIssuerError:
        raise AuthError("invalid bearer token: it was issued by someone else") from None
    except jwt.ImmatureSignatureError:
        raise AuthError("invalid bearer token: it is issued in the future") from None
    except jwt.PyJWTError:
        raise AuthError(f"invalid bearer token: it is malformed or not signed with {signer}") from None
    if claims["exp"] - claims["iat"] > MAX_LIFETIME.total_seconds():
        raise AuthError(f"invalid bearer token: it lives longer than {MAX_LIFETIME.total_seconds() / 3600:g} hours")
    return claims


def principal_of(claims: Mapping[str, Any], *, role_claim: str, org_claim: str) -> Principal:
    """The caller a verified token names: `sub`, the role in `role_claim` (a string, or a list holding exactly one
    of our roles) and the organization in `org_claim`. A dotted name reaches into nested claims
    (`realm_access.roles`)."""
    role = _one_role(_claim(claims, role_claim))
    if role is None:
        raise AuthError(
            "invalid bearer token: its role is none of submitter, adjuster, supervisor, admin "
            f"(the '{role_claim}' claim must name exactly one)"
        )
    org = _claim(claims, org_claim)
    if org is not None and not isinstance(org, str):
        raise AuthError(f"invalid bearer token: its '{org_claim}' claim must be a string")
    if role is Role.SUBMITTER and not org:
        raise AuthError(f"invalid bearer token: a submitter token must name its organization ({org_claim})")
    sub = claims["sub"]
    if not isinstance(sub, str) or not sub:
        raise AuthError("invalid bearer token: its 'sub' claim must be a non-empty string")
    return Principal(sub=sub, role=role, org=org or None)


def _claim(claims: Mapping[str, Any], name: str) -> Any:
    value: Any = claims
    for part in name.split("."):
        value = value.get(part) if isinstance(value, Mapping) else None
    return value


def _one_role(value: Any) -> Role | None:
    names = [value] if isinstance(value, str) else value if isinstance(value, list) else []
    roles = {Role(name) for name in names if isinstance(name, str) and name in ROLE_NAMES}
    return roles.pop() if len(roles) == 1 else None
