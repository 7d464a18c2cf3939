"""Settings: one class, read from CLAIMFLOW_* variables by the composition root (workers/) and passed down."""

from __future__ import annotations

from decimal import Decimal
from enum import StrEnum
from pathlib import Path
from typing import Literal, NamedTuple
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy import make_url
from sqlalchemy.exc import ArgumentError

from domain.documents import DEFAULT_MAX_DOCUMENT_BYTES
from domain.integrations import DEV_X12_RECEIVER_ID, DEV_X12_SUBMITTER_ID

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
    #: `claimflow migrate` connects as the tables' owner with this URL; database_url's user (the API's and workers')
    #: is then granted only what the application needs. Empty: migrate as database_url's user (one role for both).
    database_migration_url: str = ""
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
    public_api_url: str = ""  # where the processor sends webhooks; empty: http(s)://api_host:api_port
    #: Serve the API (and the sandbox) over TLS with this certificate chain and key (PEM); both or neither.
    api_tls_cert_file: Path | None = None
    api_tls_key_file: Path | None = None
    sandbox_tls_cert_file: Path | None = None
    sandbox_tls_key_file: Path | None = None
    #: A CA (PEM) to trust, besides the system's, for claimflow's own HTTPS calls: the processor, webhooks.
    tls_ca_file: Path | None = None

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

    #: AES-256-GCM encryption of every Temporal payload (workers/payload_codec.py). None: on in production, off
    #: elsewhere. Keys newest first (the first encrypts, all decrypt): "id:base64" entries, or files named by their
    #: id holding the key in base64; with neither outside production, a dev key in data_dir. Production processes
    #: that talk to Temporal refuse to start without keys (workers/payload_codec.py: read_keys).
    payload_encryption: bool | None = None
    payload_keys: list[SecretStr] = []
    payload_key_files: list[Path] = []
    #: `claimflow codec-server`: decodes payloads for the Temporal UI, for admins only, to the UI's origins
    #: (empty: the dev UI's, http://127.0.0.1:<ui port> and http://localhost:<ui port>); HTTPS with a certificate.
    codec_server_host: str = "127.0.0.1"
    codec_server_port: int = 8234
    codec_server_ui_origins: list[str] = []
    codec_server_tls_cert_file: Path | None = None
    codec_server_tls_key_file: Path | None = None

    jwt_secret: str = DEV_JWT_SECRET
    jwt_issuer: str = "claimflow"
    jwt_ttl_minutes: int = 60 * 12
    webhook_secret: str = DEV_WEBHOOK_SECRET
    #: OpenID Connect: with an issuer, the API takes only RS256/ES256 tokens signed with the keys the provider
    #: publishes (its discovery document's jwks_uri, or oidc_jwks_url) and refuses HS256 tokens signed with
    #: jwt_secret. `aud` must be oidc_audience; the role and organization come from the claims named here (a
    #: dotted name reaches into nested claims, e.g. realm_access.roles).
    oidc_issuer: str = ""
    oidc_jwks_url: str = ""
    oidc_audience: str = "claimflow-api"
    oidc_role_claim: str = "role"
    oidc_org_claim: str = "org"
    #: Requests one caller (a token's subject and role; without a valid token, a client address) may send the API
    #: per minute, counted in the database so it holds across replicas; past it, 429 with Retry-After. 0: no limit.
    api_rate_limit_per_minute: int = 3000

    #: Traces (OpenTelemetry): "none" (spans made, context carried from the API through the workflow to the processor
    #: call, nothing exported), "console" (printed), "otlp" (sent to an OpenTelemetry collector over OTLP/HTTP protobuf
    #: at trace_otlp_endpoint — empty: OTEL_EXPORTER_OTLP_TRACES_ENDPOINT or http://localhost:4318/v1/traces — with
    #: trace_otlp_headers, e.g. {"authorization": "Bearer ..."}). Spans carry ids and names, never claim data.
    trace_exporter: Literal["none", "console", "otlp"] = "none"
    trace_otlp_endpoint: str = ""
    trace_otlp_headers: dict[str, SecretStr] = {}
    trace_otlp_protocol: Literal["http/protobuf"] = "http/protobuf"
    trace_otlp_timeout_seconds: float = Field(default=10.0, gt=0, le=60)
    #: Logs: "json" (one object a line with trace_id, span_id and the claim_id a record names) or "text". None: json in
    #: production, text elsewhere (`claimflow dev`).
    log_format: Literal["json", "text"] | None = None
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    #: Prometheus: the worker serves the Temporal SDK's metrics at http://<worker_metrics_address>/metrics, e.g.
    #: 0.0.0.0:9464 in a container (a port taken stops the worker). None: `claimflow dev` serves them on 127.0.0.1:9464
    #: (or skips them, saying so, when that port is taken), `claimflow worker` does not; empty: never.
    #: The API's /metrics reads the claim figures from PostgreSQL at most every metrics_cache_seconds (those read from
    #: the status history and the ledger — first-pass acceptance, denials by CARC, time in status — every
    #: metrics_history_cache_seconds), each query cut off after metrics_query_timeout_seconds; a claim not final, not
    #: waiting for a person and unchanged for metrics_stuck_hours is stuck; time in status and first-pass acceptance
    #: read the claims received in the last metrics_window_days.
    worker_metrics_address: str | None = None
    metrics_cache_seconds: float = Field(default=10.0, ge=0, le=300)
    metrics_history_cache_seconds: float = Field(default=300.0, ge=0, le=3600)
    metrics_query_timeout_seconds: float = Field(default=2.0, gt=0, le=30)
    metrics_stuck_hours: float = Field(default=24.0, gt=0)
    metrics_window_days: float = Field(default=7.0, gt=0, le=90)

    #: The X12 837P's envelope and submitter: ISA06/GS02 and 1000A NM109 the submitter's id, ISA08/GS03 and 1000B
    #: NM109 the receiver's (clearinghouse's), 1000A PER a contact (an email or a phone), ISA15 T (test) or P
    #: (production; empty: P in production, T elsewhere). An X12 integration's submitter_id/receiver_id override the
    #: ids (activities/integrations.py with_envelope_ids); an ISA15 P interchange with a dev id below is refused.
    x12_submitter_id: str = DEV_X12_SUBMITTER_ID
    x12_submitter_name: str = "claimflow dev submitter"
    x12_submitter_contact_name: str = "Billing office"
    x12_submitter_contact_email: str = "billing@example.invalid"
    x12_submitter_contact_phone: str = ""
    x12_receiver_id: str = DEV_X12_RECEIVER_ID
    x12_receiver_name: str = "claimflow sandbox clearinghouse"
    x12_usage_indicator: Literal["", "T", "P"] = ""
    #: Outside production, an organization with no integration gets the sandbox's (JSON by default, X12 for
    #: SANDBOX-X12), enabled, on its first claim; false: its claims wait in `ready` until an admin adds one.
    dev_auto_integrations: bool = True

    #: Claims' supporting documents: stored by SHA-256 in a folder (default: data_dir/documents) or in an
    #: S3-compatible bucket; the largest taken; a virus scanner called before anything is stored ("clamd": ClamAV's
    #: daemon at documents_clamd_address, host:port; "none": no scan).
    documents_storage: Literal["filesystem", "s3"] = "filesystem"
    documents_dir: Path | None = None
    documents_max_bytes: int = DEFAULT_MAX_DOCUMENT_BYTES
    documents_s3_bucket: str = ""
    documents_s3_endpoint_url: str = ""  # empty: AWS's; e.g. http://127.0.0.1:9000 for MinIO
    documents_s3_region: str = ""
    documents_s3_access_key_id: str = ""  # empty (with the secret): boto3's chain (environment, profile, role)
    documents_s3_secret_access_key: SecretStr = SecretStr("")
    documents_s3_prefix: str = ""
    documents_s3_server_side_encryption: str = "AES256"  # empty: the bucket's default
    documents_virus_scanner: Literal["none", "clamd"] = "none"
    documents_clamd_address: str = "127.0.0.1:3310"
    documents_clamd_timeout_seconds: float = 30.0

    auto_approve_limit: Decimal = Decimal("1000.00")
    poll_initial_seconds: float = 2.0
    poll_max_seconds: float = 4 * 3600.0
    poll_deadline_days: float = 30.0
    review_sla_hours: float = 48.0
    info_deadline_days: float = 30.0
    #: The risk screen (before submission and before auto-approval): a score (0-100) at or above the threshold sends
    #: the claim to review with its reasons. An external scorer, when a URL is set, is asked too (the higher score
    #: counts); past its timeout or on an error the rules' score stands alone. Production wants an https:// URL.
    risk_threshold: int = Field(default=50, ge=1, le=100)
    risk_scoring_url: str = ""
    risk_scoring_timeout_seconds: float = Field(default=2.0, gt=0, le=10)  # within the step's 15 s
    #: E-mail notifications (empty host: none): adjusters on assignment, escalation and reassignment (their
    #: `email`), and e-mail subscriptions of organizations (POST /v1/subscriptions with `email`). Links in mails
    #: point at CLAIMFLOW_PUBLIC_API_URL.
    smtp_host: str = ""
    smtp_port: int = Field(default=587, ge=1, le=65535)
    smtp_from: str = "claimflow@localhost"
    smtp_username: str = ""
    smtp_password: str = ""
    smtp_starttls: bool = True

    @model_validator(mode="after")
    def _refuse_weak_secrets_in_production(self) -> Settings:
        if self.environment is Environment.PRODUCTION:
            # With an OpenID Connect provider, the API refuses tokens signed with the shared JWT secret: unused.
            secrets = [("CLAIMFLOW_WEBHOOK_SECRET", self.webhook_secret, DEV_WEBHOOK_SECRET)]
            if not self.oidc_issuer:
                secrets.append(("CLAIMFLOW_JWT_SECRET", self.jwt_secret, DEV_JWT_SECRET))
            for name, value, dev_value in secrets:
                if value == dev_value:
                    raise ValueError(f"{name} must be set to a secret of your own in production, not the dev value")
                if len(value.encode()) < MIN_SECRET_BYTES:
                    raise ValueError(f"{name} must be at least {MIN_SECRET_BYTES} bytes in production")
            if not self.database_url:
                raise ValueError("CLAIMFLOW_DATABASE_URL must point at PostgreSQL in production")
            refuse_plaintext_in_production(self)
        return self

    @model_validator(mode="after")
    def _oidc_and_rate_limit_settings_are_sound(self) -> Settings:
        if self.environment is Environment.PRODUCTION:
            for name, url in (
                ("CLAIMFLOW_OIDC_ISSUER", self.oidc_issuer),
                ("CLAIMFLOW_OIDC_JWKS_URL", self.oidc_jwks_url),
            ):
                if url and not url.startswith("https://"):
                    raise ValueError(f"{name} must be an https:// URL in production (the keys that sign tokens)")
        if self.oidc_jwks_url and not self.oidc_issuer:
            raise ValueError("CLAIMFLOW_OIDC_JWKS_URL needs CLAIMFLOW_OIDC_ISSUER (the iss every token must name)")
        if self.api_rate_limit_per_minute < 0:
            raise ValueError("CLAIMFLOW_API_RATE_LIMIT_PER_MINUTE must be 0 (no limit) or more")
        return self

    @model_validator(mode="after")
    def _tls_files_come_in_pairs(self) -> Settings:
        for name, cert, key in (
            ("CLAIMFLOW_API_TLS", self.api_tls_cert_file, self.api_tls_key_file),
            ("CLAIMFLOW_SANDBOX_TLS", self.sandbox_tls_cert_file, self.sandbox_tls_key_file),
            ("CLAIMFLOW_CODEC_SERVER_TLS", self.codec_server_tls_cert_file, self.codec_server_tls_key_file),
        ):
            if (cert is None) != (key is None):
                raise ValueError(f"{name}_CERT_FILE and {name}_KEY_FILE must be set together (PEM files)")
        return self

    @model_validator(mode="after")
    def _document_settings_are_sound(self) -> Settings:
        if self.documents_max_bytes < 1:
            raise ValueError("CLAIMFLOW_DOCUMENTS_MAX_BYTES must be at least 1")
        if self.documents_storage == "s3" and not self.documents_s3_bucket:
            raise ValueError("CLAIMFLOW_DOCUMENTS_STORAGE=s3 needs CLAIMFLOW_DOCUMENTS_S3_BUCKET")
        if bool(self.documents_s3_access_key_id) != bool(self.documents_s3_secret_access_key.get_secret_value()):
            raise ValueError(
                "CLAIMFLOW_DOCUMENTS_S3_ACCESS_KEY_ID and CLAIMFLOW_DOCUMENTS_S3_SECRET_ACCESS_KEY go together"
            )
        host, _, port = self.documents_clamd_address.rpartition(":")
        if self.documents_virus_scanner == "clamd" and (not host or not port.isdigit()):
            raise ValueError("CLAIMFLOW_DOCUMENTS_CLAMD_ADDRESS must be host:port (clamd's TCP socket)")
        return self

    @property
    def api_tls(self) -> TlsFiles | None:
        """The API's certificate and key, when it serves HTTPS."""
        return _pair(self.api_tls_cert_file, self.api_tls_key_file)

    @property
    def sandbox_tls(self) -> TlsFiles | None:
        return _pair(self.sandbox_tls_cert_file, self.sandbox_tls_key_file)

    @property
    def auto_integrations(self) -> bool:
        """Whether organizations get the sandbox integrations implicitly: never in production."""
        return self.dev_auto_integrations and self.environment is not Environment.PRODUCTION

    @property
    def payload_encryption_enabled(self) -> bool:
        if self.payload_encryption is None:
            return self.environment is Environment.PRODUCTION
        return self.payload_encryption

    @property
    def json_logs(self) -> bool:
        """Logs as JSON lines: CLAIMFLOW_LOG_FORMAT, else in production only."""
        if self.log_format is None:
            return self.environment is Environment.PRODUCTION
        return self.log_format == "json"

    @property
    def codec_server_tls(self) -> TlsFiles | None:
        return _pair(self.codec_server_tls_cert_file, self.codec_server_tls_key_file)

    @property
    def codec_server_origins(self) -> list[str]:
        ui = self.temporal_ui_port
        return self.codec_server_ui_origins or [f"http://127.0.0.1:{ui}", f"http://localhost:{ui}"]

    @property
    def webhook_base_url(self) -> str:
        scheme = "https" if self.api_tls else "http"
        return self.public_api_url or f"{scheme}://{self.api_host}:{self.api_port}"


class TlsFiles(NamedTuple):
    """A server's certificate chain and private key (PEM files)."""

    cert_file: Path
    key_file: Path


def _pair(cert: Path | None, key: Path | None) -> TlsFiles | None:
    return TlsFiles(cert, key) if cert is not None and key is not None else None


#: Database URL parameters that make libpq insist on TLS.
TLS_SSLMODES = frozenset({"require", "verify-ca", "verify-full"})
LOOPBACK_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})


def refuse_plaintext_in_production(settings: Settings) -> None:
    """Production sends PHI only over TLS: the processor and the webhook URL are https, and the database URL
    insists on TLS (sslmode) unless it points at this host (a local socket or a TLS-terminating sidecar)."""
    for name, url in (
        ("CLAIMFLOW_PROCESSOR_URL", settings.processor_url),
        ("CLAIMFLOW_PUBLIC_API_URL", settings.webhook_base_url),
        *([("CLAIMFLOW_RISK_SCORING_URL", settings.risk_scoring_url)] if settings.risk_scoring_url else []),
    ):
        if urlsplit(url).scheme != "https":
            raise ValueError(
                f"{name} must be an https:// URL in production: claims and webhooks carry PHI"
                + (" (set CLAIMFLOW_PUBLIC_API_URL to the API's https address)" if name.endswith("API_URL") else "")
            )
    for name, url in (
        ("CLAIMFLOW_DATABASE_URL", settings.database_url),
        ("CLAIMFLOW_DATABASE_MIGRATION_URL", settings.database_migration_url),
    ):
        if not url:
            continue
        try:
            database = make_url(url)
        except ArgumentError:
            raise ValueError(f"{name} is not a database URL (postgresql://user@host:5432/name)") from None
        host = database.host or ""
        if host and host not in LOOPBACK_HOSTS and database.query.get("sslmode") not in TLS_SSLMODES:
            raise ValueError(
                f"{name} must require TLS in production: add ?sslmode=verify-full (with sslrootcert=...) "
                "or ?sslmode=require"
            )
