"""The document store, scanner and limit the API is built with, from CLAIMFLOW_DOCUMENTS_* settings."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from services.storage.clamd import ClamdScanner
from services.storage.filesystem import FilesystemDocumentStore
from services.storage.s3 import S3DocumentStore
from workers.api_config import document_config
from workers.settings import Settings


def test_by_default_documents_go_to_the_data_folder_unscanned_up_to_10_mib(tmp_path: Path) -> None:
    config = document_config(Settings(_env_file=None, data_dir=tmp_path))

    assert isinstance(config.store, FilesystemDocumentStore)
    assert config.store.root == tmp_path / "documents"
    assert config.scanner is None
    assert config.max_bytes == 10 * 1024 * 1024


def test_s3_storage_and_clamd_are_chosen_by_settings() -> None:
    settings = Settings(
        _env_file=None,
        documents_storage="s3",
        documents_s3_bucket="claims-documents",
        documents_s3_endpoint_url="http://127.0.0.1:9000",
        documents_s3_region="us-east-1",
        documents_s3_access_key_id="key-id",
        documents_s3_secret_access_key="secret",
        documents_s3_prefix="prod/",
        documents_virus_scanner="clamd",
        documents_clamd_address="clamav.internal:3310",
        documents_max_bytes=2048,
    )

    config = document_config(settings)

    assert isinstance(config.store, S3DocumentStore)
    assert (config.store.location.bucket, config.store.location.endpoint_url) == (
        "claims-documents",
        "http://127.0.0.1:9000",
    )
    assert config.store.key_of("a" * 64) == "prod/" + "a" * 64
    assert isinstance(config.scanner, ClamdScanner)
    assert (config.scanner.host, config.scanner.port) == ("clamav.internal", 3310)
    assert config.max_bytes == 2048


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"documents_storage": "s3"}, "CLAIMFLOW_DOCUMENTS_S3_BUCKET"),
        ({"documents_s3_access_key_id": "only-the-id"}, "go together"),
        ({"documents_virus_scanner": "clamd", "documents_clamd_address": "clamav"}, "host:port"),
        ({"documents_max_bytes": 0}, "at least 1"),
    ],
)
def test_incomplete_document_settings_are_refused_naming_the_variable(fields: dict[str, object], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        Settings(_env_file=None, **fields)  # type: ignore[arg-type]
