"""Bearer tokens: audience, issue time and lifetime are required and checked; refusals are ours, never the library's."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from api.auth import ALGORITHM, AUDIENCE, MAX_LIFETIME, AuthError, Role, mint_token, principal_of, read_token

SECRET = "s" * 32
ISSUER = "claimflow"
NOW = datetime.now(UTC)


def claims(**changes: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "sub": "ana",
        "role": "submitter",
        "org": "lab",
        "iss": ISSUER,
        "aud": AUDIENCE,
        "iat": NOW,
        "exp": NOW + timedelta(hours=1),
    }
    base.update(changes)
    return {key: value for key, value in base.items() if value is not None}


def read(token_claims: dict[str, Any], secret: str = SECRET) -> str:
    with pytest.raises(AuthError) as refused:
        read_token(jwt.encode(token_claims, secret, algorithm=ALGORITHM), secret=SECRET, issuer=ISSUER)
    return str(refused.value)


def test_a_minted_token_reads_back_as_its_principal() -> None:
    token = mint_token(sub="ana", role=Role.SUBMITTER, org="lab", secret=SECRET, issuer=ISSUER, ttl=timedelta(hours=1))
    principal = read_token(token, secret=SECRET, issuer=ISSUER)
    assert (principal.sub, principal.role, principal.org) == ("ana", Role.SUBMITTER, "lab")


@pytest.mark.parametrize("claim", ["aud", "iat", "exp", "iss", "sub", "role"])
def test_a_token_without_a_required_claim_is_refused(claim: str) -> None:
    assert f"no '{claim}' claim" in read(claims(**{claim: None}))


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"aud": "another-service"}, "not meant for this API"),
        ({"iss": "someone-else"}, "issued by someone else"),
        ({"iat": NOW + timedelta(hours=1), "exp": NOW + timedelta(hours=2)}, "issued in the future"),
        ({"iat": NOW - timedelta(hours=2), "exp": NOW - timedelta(hours=1)}, "has expired"),
        ({"exp": NOW + MAX_LIFETIME + timedelta(minutes=1)}, "lives longer than 12 hours"),
        ({"role": "root"}, "its role is none of"),
        ({"org": None}, "must name its organization"),
    ],
)
def test_a_token_breaking_a_rule_is_refused_with_our_words(changes: dict[str, Any], message: str) -> None:
    assert message in read(claims(**changes))


def test_another_key_or_garbage_is_refused_without_echoing_the_library() -> None:
    for text in (read(claims(), secret="t" * 32), _garbage()):
        assert text == "invalid bearer token: it is malformed or not signed with this API's key"


def _garbage() -> str:
    with pytest.raises(AuthError) as refused:
        read_token("not.a.token", secret=SECRET, issuer=ISSUER)
    return str(refused.value)


def test_no_token_is_minted_to_live_longer_than_the_maximum() -> None:
    with pytest.raises(ValueError, match="at most 12 hours"):
        mint_token(sub="a", role=Role.ADMIN, org=None, secret=SECRET, issuer=ISSUER, ttl=MAX_LIFETIME * 2)


def test_an_unsigned_or_rs256_token_is_refused_by_the_shared_secret_reader() -> None:
    rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    for token in (jwt.encode(claims(), "", algorithm="none"), jwt.encode(claims(), rsa_key, algorithm="RS256")):
        with pytest.raises(AuthError, match="not signed with this API's key"):
            read_token(token, secret=SECRET, issuer=ISSUER)


@pytest.mark.parametrize(
    ("role_claim", "claims_in", "role"),
    [
        ("role", {"role": "adjuster"}, Role.ADJUSTER),
        ("groups", {"groups": ["staff", "supervisor"]}, Role.SUPERVISOR),
        ("realm_access.roles", {"realm_access": {"roles": ["admin", "offline_access"]}}, Role.ADMIN),
        ("groups", {"groups": ["adjuster", "admin"]}, None),  # two of ours: ambiguous
        ("groups", {"groups": "staff"}, None),
        ("groups", {}, None),
    ],
)
def test_the_role_is_read_from_the_named_claim_and_must_be_exactly_one_of_ours(
    role_claim: str, claims_in: dict[str, Any], role: Role | None
) -> None:
    token_claims = {"sub": "ana", **claims_in}
    if role is None:
        with pytest.raises(AuthError, match="its role is none of"):
            principal_of(token_claims, role_claim=role_claim, org_claim="org")
    else:
        assert principal_of(token_claims, role_claim=role_claim, org_claim="org").role is role
