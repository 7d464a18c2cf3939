"""Transmission security: production refuses plaintext URLs; the API and sandbox serve HTTPS; the engine verifies it."""

from __future__ import annotations

import asyncio
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from activities.processor_client import ProcessorClient
from sandbox.app import create_app as create_sandbox_app
from sandbox.config import SandboxConfig
from tests.domain.factories import make_claim
from tests.support.stack import free_port
from workers.certs import write_certificates
from workers.servers import embedded
from workers.settings import DEV_JWT_SECRET, MIN_SECRET_BYTES, Environment, Settings, TlsFiles
from workers.temporal_server import wait_for_port
from workers.tls import client_context

STRONG = "s" * MIN_SECRET_BYTES
SAFE = {
    "jwt_secret": STRONG,
    "webhook_secret": STRONG + "w",
    "database_url": "postgresql://claimflow@db.internal:5432/claimflow?sslmode=verify-full",
    "processor_url": "https://clearinghouse.example",
    "public_api_url": "https://claims.example",
}


def production(**overrides: object) -> Settings:
    return Settings(environment=Environment.PRODUCTION, _env_file=None, **{**SAFE, **overrides})  # type: ignore[arg-type]


def test_production_accepts_https_and_a_database_that_requires_tls() -> None:
    assert production().environment is Environment.PRODUCTION
    assert production(database_url="postgresql://claimflow@127.0.0.1:5432/claimflow").database_url  # a local sidecar


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"processor_url": "http://clearinghouse.example"}, "CLAIMFLOW_PROCESSOR_URL must be an https:// URL"),
        ({"public_api_url": "http://claims.example"}, "CLAIMFLOW_PUBLIC_API_URL must be an https:// URL"),
        ({"public_api_url": ""}, "CLAIMFLOW_PUBLIC_API_URL must be an https:// URL"),  # the http:// default
        (
            {"database_url": "postgresql://claimflow@db.internal:5432/claimflow"},
            "CLAIMFLOW_DATABASE_URL must require TLS",
        ),
        (
            {"database_url": "postgresql://claimflow@db.internal/claimflow?sslmode=prefer"},
            "CLAIMFLOW_DATABASE_URL must require TLS",
        ),
        ({"database_url": "not a url"}, "CLAIMFLOW_DATABASE_URL is not a database URL"),
        (
            {"database_migration_url": "postgresql://owner@db.internal/claimflow"},
            "CLAIMFLOW_DATABASE_MIGRATION_URL must require TLS",
        ),
    ],
)
def test_production_refuses_plaintext(overrides: dict[str, str], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        production(**overrides)


def test_with_an_identity_provider_production_needs_no_jwt_secret() -> None:
    settings = production(jwt_secret=DEV_JWT_SECRET, oidc_issuer="https://login.example")
    assert settings.oidc_issuer == "https://login.example"


def test_development_keeps_plain_http_on_loopback() -> None:
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    assert settings.processor_url.startswith("http://127.0.0.1")
    assert settings.webhook_base_url == f"http://{settings.api_host}:{settings.api_port}"


def test_a_certificate_without_its_key_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="CLAIMFLOW_API_TLS_CERT_FILE and CLAIMFLOW_API_TLS_KEY_FILE must be set"):
        Settings(_env_file=None, api_tls_cert_file=tmp_path / "api.pem")  # type: ignore[call-arg]


def test_the_webhook_url_follows_the_api_scheme(tmp_path: Path) -> None:
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        api_tls_cert_file=tmp_path / "api.pem",
        api_tls_key_file=tmp_path / "api-key.pem",
    )
    assert settings.api_tls == TlsFiles(tmp_path / "api.pem", tmp_path / "api-key.pem")
    assert settings.webhook_base_url.startswith("https://")


def test_certs_writes_a_chain_that_openssl_verifies_and_a_private_key(tmp_path: Path) -> None:
    ca = write_certificates(tmp_path, {"api": ["api", "127.0.0.1"]})
    verified = subprocess.run(
        ["openssl", "verify", "-CAfile", str(ca), str(tmp_path / "api.pem")], capture_output=True, text=True
    )
    assert verified.returncode == 0, verified.stderr
    assert (tmp_path / "api-key.pem").stat().st_mode & 0o777 == 0o600


@pytest.fixture
async def sandbox_over_tls(tmp_path: Path) -> AsyncIterator[tuple[str, Path]]:
    """The sandbox processor served over HTTPS with a certificate from `claimflow certs`."""
    ca = write_certificates(tmp_path, {"sandbox": ["localhost", "127.0.0.1"]})
    port = free_port()
    tls = TlsFiles(tmp_path / "sandbox.pem", tmp_path / "sandbox-key.pem")
    server = embedded(create_sandbox_app(SandboxConfig()), "127.0.0.1", port, tls=tls)
    task = asyncio.create_task(server.serve())
    await wait_for_port("127.0.0.1", port, timeout=20)
    yield f"https://localhost:{port}", ca
    server.should_exit = True
    await task


async def test_the_engine_submits_over_https_and_verifies_the_processor(sandbox_over_tls: tuple[str, Path]) -> None:
    url, ca = sandbox_over_tls
    async with httpx.AsyncClient(verify=client_context(ca), timeout=10) as http:
        receipt = await ProcessorClient(http, url).submit(
            "c" * 32, make_claim(), idempotency_key="tls-1", callback_url=None
        )
    assert receipt.payer_claim_id


async def test_a_processor_certificate_from_an_unknown_ca_is_refused(sandbox_over_tls: tuple[str, Path]) -> None:
    url, _ = sandbox_over_tls
    async with httpx.AsyncClient(verify=client_context(None), timeout=10) as http:
        with pytest.raises(httpx.ConnectError) as refused:
            await ProcessorClient(http, url).submit("d" * 32, make_claim(), idempotency_key="tls-2", callback_url=None)
    assert "CERTIFICATE_VERIFY_FAILED" in str(refused.value)
