"""The Temporal client's transport from settings: plain TCP in dev, TLS, mutual TLS, an API key."""

from __future__ import annotations

from pathlib import Path

import pytest
from temporalio.service import TLSConfig

from workers.settings import Settings
from workers.temporal_client import tls_config


def settings(**values: object) -> Settings:
    return Settings(_env_file=None, **values)  # type: ignore[call-arg, arg-type]


def test_dev_server_is_plain_tcp() -> None:
    assert tls_config(settings()) is False


def test_tls_flag_or_api_key_uses_the_system_roots() -> None:
    assert tls_config(settings(temporal_tls=True)) is True
    assert tls_config(settings(temporal_api_key="key-from-the-cloud")) is True


def test_mutual_tls_reads_the_certificate_key_and_ca(tmp_path: Path) -> None:
    for name in ("ca", "cert", "key"):
        (tmp_path / f"{name}.pem").write_bytes(f"-----{name}-----".encode())
    config = tls_config(
        settings(
            temporal_tls_ca_file=tmp_path / "ca.pem",
            temporal_tls_cert_file=tmp_path / "cert.pem",
            temporal_tls_key_file=tmp_path / "key.pem",
            temporal_tls_server_name="temporal.internal",
        )
    )
    assert config == TLSConfig(
        server_root_ca_cert=b"-----ca-----",
        client_cert=b"-----cert-----",
        client_private_key=b"-----key-----",
        domain="temporal.internal",
    )


def test_a_client_certificate_without_its_key_is_refused(tmp_path: Path) -> None:
    (tmp_path / "cert.pem").write_bytes(b"cert")
    with pytest.raises(ValueError, match="go together"):
        tls_config(settings(temporal_tls_cert_file=tmp_path / "cert.pem"))
