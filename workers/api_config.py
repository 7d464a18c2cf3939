"""The API's configuration, built from settings (for `claimflow api` and `claimflow dev`)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from datetime import timedelta
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from activities.eligibility import EligibilityExchange
from activities.processor import ProcessorActivities
from api.deps import ApiConfig
from api.oidc import OidcConfig
from services.documents import DocumentConfig
from services.metrics import ClaimMetricsConfig
from services.storage import DocumentStore
from services.storage.clamd import ClamdScanner
from services.storage.filesystem import FilesystemDocumentStore
from services.storage.s3 import S3DocumentStore, S3Location
from services.x12 import Envelope, SubmitterProfile, X12Integration
from workers.policy import claim_policy
from workers.settings import Environment, Settings
from workers.telemetry import traced_client
from workers.tls import client_context
from workers.update_keys import signing_key


def api_config(settings: Settings) -> ApiConfig:
    return ApiConfig(
        task_queue=settings.task_queue,
        jwt_secret=settings.jwt_secret,
        jwt_issuer=settings.jwt_issuer,
        webhook_secret=settings.webhook_secret,
        policy=claim_policy(settings),
        update_signing_key=signing_key(settings),
        docs=settings.api_docs,
        temporal_start_timeout_seconds=settings.api_start_timeout_seconds,
        temporal_update_timeout_seconds=settings.api_update_timeout_seconds,
        temporal_query_timeout_seconds=settings.api_query_timeout_seconds,
        temporal_signal_timeout_seconds=settings.api_signal_timeout_seconds,
        oidc=oidc_config(settings),
        rate_limit=settings.api_rate_limit_per_minute,
        x12=x12_integration(settings),
        documents=document_config(settings),
        email_enabled=bool(settings.smtp_host),
        eligibility=eligibility_exchange(
            settings.processor_url,
            timeout=settings.processor_timeout_seconds,
            ca_file=settings.tls_ca_file,
            x12=x12_integration(settings),
            auto_provision=settings.auto_integrations,
        ),
    )


def claim_metrics_config(settings: Settings) -> ClaimMetricsConfig:
    """How the API's /metrics reads the claim figures (CLAIMFLOW_METRICS_*)."""
    return ClaimMetricsConfig(
        query_timeout_seconds=settings.metrics_query_timeout_seconds,
        stuck_after=timedelta(hours=settings.metrics_stuck_hours),
        window=timedelta(days=settings.metrics_window_days),
        cache_seconds=settings.metrics_cache_seconds,
        history_cache_seconds=settings.metrics_history_cache_seconds,
    )


def eligibility_exchange(
    processor_url: str,
    *,
    timeout: float = 10.0,
    ca_file: Path | None = None,
    x12: X12Integration | None = None,
    auto_provision: bool = False,
) -> Callable[[async_sessionmaker[AsyncSession]], AbstractAsyncContextManager[EligibilityExchange]]:
    """Opens the exchange POST /v1/eligibility asks: the processor's adapters (JSON, X12) on an HTTP client of its
    own, routed by the organization's integrations as its claims are."""

    @asynccontextmanager
    async def open_exchange(sessions: async_sessionmaker[AsyncSession]) -> AsyncIterator[EligibilityExchange]:
        async with traced_client(timeout=timeout, verify=client_context(ca_file)) as http:
            processor = ProcessorActivities(sessions, http, processor_url, None, x12)
            yield EligibilityExchange(sessions, processor, auto_provision=auto_provision)

    return open_exchange


def document_config(settings: Settings) -> DocumentConfig:
    """Where documents are stored (CLAIMFLOW_DOCUMENTS_*): a folder by default, or an S3-compatible bucket; the
    virus scanner called before anything is stored, if one is named."""
    store: DocumentStore
    if settings.documents_storage == "s3":
        store = S3DocumentStore(
            S3Location(
                bucket=settings.documents_s3_bucket,
                endpoint_url=settings.documents_s3_endpoint_url or None,
                region=settings.documents_s3_region or None,
                access_key_id=settings.documents_s3_access_key_id or None,
                secret_access_key=settings.documents_s3_secret_access_key.get_secret_value() or None,
                prefix=settings.documents_s3_prefix,
                server_side_encryption=settings.documents_s3_server_side_encryption or None,
            )
        )
    else:
        store = FilesystemDocumentStore(settings.documents_dir or settings.data_dir / "documents")
    scanner = None
    if settings.documents_virus_scanner == "clamd":
        host, _, port = settings.documents_clamd_address.rpartition(":")
        scanner = ClamdScanner(host.strip("[]"), int(port), timeout_seconds=settings.documents_clamd_timeout_seconds)
    return DocumentConfig(store=store, scanner=scanner, max_bytes=settings.documents_max_bytes)


def x12_integration(settings: Settings) -> X12Integration:
    """The envelope and submitter of the interchanges the API shows (CLAIMFLOW_X12_*)."""
    production = settings.environment is Environment.PRODUCTION
    return X12Integration(
        envelope=Envelope(
            sender_id=settings.x12_submitter_id,
            receiver_id=settings.x12_receiver_id,
            usage=settings.x12_usage_indicator or ("P" if production else "T"),
        ),
        submitter=SubmitterProfile(
            name=settings.x12_submitter_name,
            identifier=settings.x12_submitter_id,
            contact_name=settings.x12_submitter_contact_name,
            contact_email=settings.x12_submitter_contact_email or None,
            contact_phone=settings.x12_submitter_contact_phone or None,
            receiver_name=settings.x12_receiver_name,
            receiver_id=settings.x12_receiver_id,
        ),
    )


def oidc_config(settings: Settings) -> OidcConfig | None:
    """The OpenID Connect provider the API verifies tokens with; None (HS256 with the shared secret) without one."""
    if not settings.oidc_issuer:
        return None
    return OidcConfig(
        issuer=settings.oidc_issuer,
        audience=settings.oidc_audience,
        jwks_url=settings.oidc_jwks_url or None,
        role_claim=settings.oidc_role_claim,
        org_claim=settings.oidc_org_claim,
    )
