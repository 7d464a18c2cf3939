"""Bearer JWT authentication: who is calling, with which role, for which organization."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import jwt

from services.access import Principal, Role

__all__ = ["ALGORITHM", "AuthError", "Principal", "Role", "mint_token", "read_token"]

ALGORITHM = "HS256"
#: The audience every token must name: a token minted for another service is no key to this one.
AUDIENCE = "claimflow-api"
#: The longest a token may live (exp - iat); a longer one is refused, however it was signed.
MAX_LIFETIME = timedelta(hours=12)
#: Clock skew tolerated between the minting machine and this one.
LEEWAY = timedelta(seconds=60)


class AuthError(Exception):
    """The token is missing, malformed, expired or signed with another key; the message is ours, never the library's."""


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
    """Verify signature, issuer, audience, issue and expiry times and lifetime; return the principal."""
    try:
        claims = jwt.decode(
            token,
            secret,
            algorithms=[ALGORITHM],
            issuer=issuer,
            audience=AUDIENCE,
            leeway=LEEWAY,
            options={"require": ["sub", "role", "iss", "aud", "iat", "exp"]},
        )
    except jwt.ExpiredSignatureError:
        raise AuthError("the bearer token has expired; get a new one") from None
    except jwt.MissingRequiredClaimError as missing:
        raise AuthError(f"invalid bearer token: it has no '{missing.claim}' claim") from None
    except jwt.InvalidAudienceError:
        raise AuthError(f"invalid bearer token: it is not meant for this API (aud must be {AUDIENCE})") from None
    except jwt.InvalidIssuerError:
        raise AuthError("invalid bearer token: it was issued by someone else") from None
    except jwt.ImmatureSignatureError:
        raise AuthError("invalid bearer token: it is issued in the future") from None
    except jwt.PyJWTError:
        raise AuthError("invalid bearer token: it is malformed or not signed with this API's key") from None
    if claims["exp"] - claims["iat"] > MAX_LIFETIME.total_seconds():
        raise AuthError(f"invalid bearer token: it lives longer than {MAX_LIFETIME.total_seconds() / 3600:g} hours")
    try:
        principal = Principal(sub=claims["sub"], role=Role(claims["role"]), org=claims.get("org"))
    except ValueError:
        raise AuthError("invalid bearer token: its role is none of submitter, adjuster, supervisor, admin") from None
    if principal.role is Role.SUBMITTER and not principal.org:
        raise AuthError("invalid bearer token: a submitter token must name its organization (org)")
    return principal
