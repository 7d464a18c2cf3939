"""Connecting to Temporal with the project's data converter."""

from __future__ import annotations

from temporalio.client import Client
from temporalio.converter import PayloadCodec
from temporalio.runtime import Runtime
from temporalio.service import TLSConfig

from workers.payload_codec import codec_from_settings, data_converter
from workers.settings import Settings
from workers.telemetry import tracing


async def connect(settings: Settings, *, runtime: Runtime | None = None) -> Client:
    """One client per process; pydantic models travel as JSON, encrypted when CLAIMFLOW_PAYLOAD_ENCRYPTION is on;
    TLS, mutual TLS and an API key as configured. `runtime`: the worker's, serving the SDK's metrics."""
    return await Client.connect(
        settings.temporal_address,
        namespace=settings.temporal_namespace,
        data_converter=data_converter(codec_from_settings(settings)),
        interceptors=tracing(settings.trace_exporter),
        tls=tls_config(settings),
        api_key=settings.temporal_api_key,
        runtime=runtime,
    )


def tls_config(settings: Settings) -> TLSConfig | bool:
    """False for plain TCP (the dev server); else the TLS settings, with a client certificate for mutual TLS."""
    if not (settings.temporal_tls or settings.temporal_tls_cert_file or settings.temporal_api_key):
        return False
    if (
        settings.temporal_tls_cert_file is None
        and settings.temporal_tls_ca_file is None
        and not settings.temporal_tls_server_name
    ):
        return True  # TLS with the system's trusted roots
    if (settings.temporal_tls_cert_file is None) != (settings.temporal_tls_key_file is None):
        raise ValueError(
            "CLAIMFLOW_TEMPORAL_TLS_CERT_FILE and CLAIMFLOW_TEMPORAL_TLS_KEY_FILE go together (mutual TLS)"
        )
    return TLSConfig(
        server_root_ca_cert=settings.temporal_tls_ca_file.read_bytes() if settings.temporal_tls_ca_file else None,
        client_cert=settings.temporal_tls_cert_file.read_bytes() if settings.temporal_tls_cert_file else None,
        client_private_key=settings.temporal_tls_key_file.read_bytes() if settings.temporal_tls_key_file else None,
        domain=settings.temporal_tls_server_name,
    )


def encrypted(client: Client, codec: PayloadCodec) -> Client:
    """The same connection with the project's converter going through `codec` (tests and benchmarks)."""
    config = client.config()
    config["data_converter"] = data_converter(codec)
    return Client(**config)
