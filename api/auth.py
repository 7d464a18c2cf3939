"""Bearer JWT authentication: who is calling, with which role, for which organization."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import jwt

from services.access import Principal, Role

__all__ = ["ALGORITHM", "AuthError", "Principal", "Role", "mint_token", "read_token"]

ALGORITHM = "HS256"


class AuthError(Exception):
    """The token is missing, malformed, expired or signed with another key."""


def mint_token(
    *, sub: str, role: Role, org: str | None, secret: str, issuer: str, ttl: timedelta, now: datetime | None = None
) -> str:
    """Sign a token for the given subject and role."""
    issued = now or datetime.now(UTC)
    claims: dict[str, object] = {"sub": sub, "role": role.value, "iss": issuer, "iat": issued, "exp": issued + ttl}
    if org:
        claims["org"] = org
    return jwt.encode(claims, secret, algorithm=ALGORITHM)


def read_token(token: str, *, secret: str, issuer: str) -> Principal:
    """Verify signature, expiry and issuer; return the principal."""
    try:
        claims = jwt.decode(
            token, secret, algorithms=[ALGORITHM], issuer=issuer, options={"require": ["sub", "role", "exp"]}
        )
        principal = Principal(sub=claims["sub"], role=Role(claims["role"]), org=claims.get("org"))
    except (jwt.PyJWTError, ValueError, KeyError) as exc:
        raise AuthError(f"invalid bearer token: {exc}") from exc
    if principal.role is Role.SUBMITTER and not principal.org:
        raise AuthError("invalid bearer token: a submitter token must name its organization (org)")
    return principal
