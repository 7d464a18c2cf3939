"""Settings: one class, read from CLAIMFLOW_* variables by the composition root (workers/) and passed down."""

from __future__ import annotations

from decimal import Decimal
from enum import StrEnum
from pathlib import Path
from typing import Literal

from pydantic import model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEV_JWT_SECRET = "claimflow-local-dev-key-not-for-production-use"
DEV_WEBHOOK_SECRET = "claimflow-local-webhook-secret"
#: The shortest secret production accepts (HMAC-SHA256 keys should be at least as long as the hash).
MIN_SECRET_BYTES = 32


class ConfigurationError(ValueError):
    """A setting is missing or wrong; the message names it and says what to set (never its value)."""


class Environment(StrEnum):
    DEV = "dev"
    TEST = "test"
    PRODUCTION = "production"


class Settings(BaseSettings):
    """Everything configurable, with embedded defaults that run on a laptop."""

    # Errors never echo what was given: a setting may be a secret.
    model_config = SettingsConfigDict(
        env_prefix="CLAIMFLOW_", env_file=".env", extra="ignore", hide_input_in_errors=True
    )

    environment: Environment = Environment.DEV
    data_dir: Path = Path(".claimflow")
    database_url: str = ""  # empty: an embedded PostgreSQL whose cluster lives in data_dir
    embedded_database_port: int = 55432

    temporal_address: str = "127.0.0.1:7233"
    temporal_namespace: str = "default"
    #: Transport security to Temporal: TLS with the system's roots (or `temporal_tls_ca_file`), mutual TLS with a
    #: client certificate and key, and/or an API key (Temporal Cloud). Files are PEM.
    temporal_tls: bool = False
    temporal_tls_ca_file: Path | None = None
    temporal_tls_cert_file: Path | None = None
    temporal_tls_key_file: Path | None = None
    temporal_tls_server_name: str | None = None
    temporal_api_key: str | None = None
    temporal_ui_port: int = 8233
    task_queue: str = "claims"

    api_host: str = "127.0.0.1"
    #: Serve the OpenAPI document and its pages (/docs, /redoc, /openapi.json).
    api_docs: bool = True
    api_port: int = 8000
    public_api_url: str = ""  # where the processor sends webhooks; empty: http://api_host:api_port

    processor_url: str = "http://127.0.0.1:8100"
    sandbox_host: str = "127.0.0.1"
    sandbox_port: int = 8100
    processor_timeout_seconds: float = 10.0
    #: How long the API waits on Temporal before it answers 503/504 (never a hang): starting a claim's workflow,
    #: an update (decision, cancel, information) until the workflow applied it, a query or a webhook's signal.
    api_start_timeout_seconds: float = 10.0
    api_update_timeout_seconds: float = 15.0
    api_query_timeout_seconds: float = 5.0
    api_signal_timeout_seconds: float = 5.0
    #: Activities one worker runs at once (regular, local): more than its CPU can finish only waits in
    #: the worker, where waiting counts against the activity's timeout; in the server's queue it does not.
    worker_max_activities: int = 16
    worker_max_local_activities: int = 16

    #: Ed25519 keys (PEM files) for the updates the API sends to claims: the API signs with the private key, the
    #: worker trusts the public keys (several while rotating). Outside production both default to a key pair in data_dir.
    update_signing_key_file: Path | None = None
    update_verify_key_files: list[Path] = []

    jwt_secret: str = DEV_JWT_SECRET
    jwt_issuer: str = "claimflow"
    jwt_ttl_minutes: int = 60 * 12
    webhook_secret: str = DEV_WEBHOOK_SECRET

    trace_exporter: Literal["none", "console"] = "none"

    auto_approve_limit: Decimal = Decimal("1000.00")
    poll_initial_seconds: float = 2.0
    poll_max_seconds: float = 4 * 3600.0
    poll_deadline_days: float = 30.0
    review_sla_hours: float = 48.0
    info_deadline_days: float = 30.0

    @model_validator(mode="after")
    def _refuse_weak_secrets_in_production(self) -> Settings:
        if self.environment is Environment.PRODUCTION:
            for name, value, dev_value in (
                ("CLAIMFLOW_JWT_SECRET", self.jwt_secret, DEV_JWT_SECRET),
                ("CLAIMFLOW_WEBHOOK_SECRET", self.webhook_secret, DEV_WEBHOOK_SECRET),
            ):
                if value == dev_value:
                    raise ValueError(f"{name} must be set to a secret of your own in production, not the dev value")
                if len(value.encode()) < MIN_SECRET_BYTES:
                    raise ValueError(f"{name} must be at least {MIN_SECRET_BYTES} bytes in production")
            if not self.database_url:
                raise ValueError("CLAIMFLOW_DATABASE_URL must point at PostgreSQL in production")
        return self

    @property
    def webhook_base_url(self) -> str:
        return self.public_api_url or f"http://{self.api_host}:{self.api_port}"
