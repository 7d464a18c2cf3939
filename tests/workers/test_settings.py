"""Settings: embedded defaults for a laptop; production refuses dev or short secrets and a missing database."""

from __future__ import annotations

import pytest

from workers.settings import DEV_JWT_SECRET, DEV_WEBHOOK_SECRET, MIN_SECRET_BYTES, Environment, Settings

STRONG = "s" * MIN_SECRET_BYTES
DATABASE = "postgresql://claimflow@db.internal:5432/claimflow?sslmode=verify-full"


def production(**overrides: str) -> Settings:
    values = {
        "jwt_secret": STRONG,
        "webhook_secret": STRONG + "w",
        "database_url": DATABASE,
        "processor_url": "https://clearinghouse.example",
        "public_api_url": "https://claims.example",
        **overrides,
    }
    return Settings(environment=Environment.PRODUCTION, _env_file=None, **values)  # type: ignore[call-arg, arg-type]


def test_dev_defaults_need_no_configuration(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("CLAIMFLOW_ENVIRONMENT", "CLAIMFLOW_DATABASE_URL", "CLAIMFLOW_JWT_SECRET"):
        monkeypatch.delenv(name, raising=False)
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    assert settings.environment is Environment.DEV
    assert settings.database_url == ""  # the embedded PostgreSQL
    assert settings.jwt_secret == DEV_JWT_SECRET


def test_production_accepts_strong_secrets_and_a_database() -> None:
    assert production().environment is Environment.PRODUCTION


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("jwt_secret", DEV_JWT_SECRET, "CLAIMFLOW_JWT_SECRET must be set to a secret of your own"),
        ("webhook_secret", DEV_WEBHOOK_SECRET, "CLAIMFLOW_WEBHOOK_SECRET must be set to a secret of your own"),
        ("jwt_secret", "x" * (MIN_SECRET_BYTES - 1), f"CLAIMFLOW_JWT_SECRET must be at least {MIN_SECRET_BYTES} bytes"),
        ("webhook_secret", "short", f"CLAIMFLOW_WEBHOOK_SECRET must be at least {MIN_SECRET_BYTES} bytes"),
        ("database_url", "", "CLAIMFLOW_DATABASE_URL must point at PostgreSQL"),
    ],
)
def test_production_refuses(field: str, value: str, message: str) -> None:
    with pytest.raises(ValueError, match=message) as refused:
        production(**{field: value})
    if field != "database_url":
        assert value not in str(refused.value)  # the error never prints the secret
