"""The document stores and the virus-scan hook against real parts: a folder, moto's S3-compatible HTTP server
(ThreadedMotoServer, spoken to over HTTP by boto3 — not moto's in-process mock), and a fake clamd over TCP."""

from __future__ import annotations

import asyncio
import hashlib
import os
import stat
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
from moto.server import ThreadedMotoServer

from services.storage import StoredDocumentMissingError, VirusScannerUnavailableError
from services.storage import filesystem as filesystem_module
from services.storage.clamd import ClamdScanner
from services.storage.filesystem import FilesystemDocumentStore
from services.storage.s3 import S3DocumentStore, S3Location
from tests.services.fake_clamd import EICAR, fake_clamd
from tests.support.stack import free_port

PDF = b"%PDF-1.4\n% a lab report\n"


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def files_under(root: Path) -> list[Path]:
    return [path for path in root.rglob("*") if path.is_file()]


def leftovers(root: Path) -> list[Path]:
    """Temporary files a write left behind."""
    return [path for path in files_under(root) if path.name.startswith(".upload-")]


async def test_folder_store_keeps_bytes_under_their_sha256_once(tmp_path: Path) -> None:
    store = FilesystemDocumentStore(tmp_path)
    key = sha(PDF)

    assert await store.put(key, PDF) is True
    assert await store.put(key, PDF) is False  # the same bytes again: nothing written

    path = tmp_path / key[:2] / key[2:4] / key
    assert path.read_bytes() == PDF
    assert files_under(tmp_path) == [path]
    assert stat.S_IMODE(path.stat().st_mode) == 0o600  # PHI: readable by the service's user only
    assert await store.get(key) == PDF


async def test_folder_store_write_that_fails_half_way_leaves_neither_the_object_nor_its_temporary_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = FilesystemDocumentStore(tmp_path)
    key = sha(PDF)

    def disk_fails(descriptor: int) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(filesystem_module.os, "fsync", disk_fails)
    with pytest.raises(OSError, match="disk full"):
        await store.put(key, PDF)

    assert not (tmp_path / key[:2] / key[2:4] / key).exists()
    assert leftovers(tmp_path) == []
    monkeypatch.undo()
    assert await store.put(key, PDF) is True  # a retry writes it whole
    assert await store.get(key) == PDF


async def test_folder_store_concurrent_writers_of_one_document_leave_it_whole(tmp_path: Path) -> None:
    store = FilesystemDocumentStore(tmp_path)
    data = os.urandom(2 * 1024 * 1024)
    key = sha(data)

    written = await asyncio.gather(*(store.put(key, data) for _ in range(8)))

    assert any(written)
    assert await store.get(key) == data
    assert leftovers(tmp_path) == []


async def test_folder_store_refuses_keys_that_are_not_sha256_and_reports_missing_ones(tmp_path: Path) -> None:
    store = FilesystemDocumentStore(tmp_path)
    with pytest.raises(ValueError, match="SHA-256"):
        await store.put("../../etc/passwd", PDF)
    with pytest.raises(StoredDocumentMissingError):
        await store.get(sha(b"never stored"))


@pytest.fixture(scope="module")
def s3_endpoint() -> Iterator[str]:
    """moto's S3-compatible server on a real port, for this module."""
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()


@pytest.fixture
def s3_location(s3_endpoint: str) -> S3Location:
    location = S3Location(
        bucket=f"claimflow-documents-{os.urandom(4).hex()}",
        endpoint_url=s3_endpoint,
        region="us-east-1",
        access_key_id="test-access-key",
        secret_access_key="test-secret-key",
        prefix="documents/",
    )
    admin(location).create_bucket(Bucket=location.bucket)
    return location


def admin(location: S3Location):  # type: ignore[no-untyped-def]
    """A boto3 client of our own on the same server, to look at what the store wrote."""
    return boto3.client(
        "s3",
        endpoint_url=location.endpoint_url,
        region_name=location.region,
        aws_access_key_id=location.access_key_id,
        aws_secret_access_key=location.secret_access_key,
    )


async def test_s3_store_writes_one_encrypted_object_per_sha256_and_reads_it_back(s3_location: S3Location) -> None:
    store = S3DocumentStore(s3_location)
    key = sha(PDF)

    assert await store.put(key, PDF) is True
    assert await store.put(key, PDF) is False  # deduplicated: the object is there

    listing = admin(s3_location).list_objects_v2(Bucket=s3_location.bucket)
    assert [item["Key"] for item in listing["Contents"]] == [f"documents/{key}"]
    head = admin(s3_location).head_object(Bucket=s3_location.bucket, Key=f"documents/{key}")
    assert head["ServerSideEncryption"] == "AES256"
    assert await store.get(key) == PDF


async def test_s3_store_reports_a_missing_object(s3_location: S3Location) -> None:
    with pytest.raises(StoredDocumentMissingError):
        await S3DocumentStore(s3_location).get(sha(b"never stored"))


async def test_clamd_scanner_streams_chunks_and_hears_clean() -> None:
    data = os.urandom(150 * 1024)
    async with fake_clamd() as clamd:
        assert await ClamdScanner(clamd.host, clamd.port).scan(data) is None

    assert clamd.commands == [b"zINSTREAM\0"]
    assert clamd.chunk_sizes == [[65536, 65536, 22528]]
    assert clamd.scanned == [data]


async def test_clamd_scanner_names_the_signature_it_found() -> None:
    async with fake_clamd() as clamd:
        assert await ClamdScanner(clamd.host, clamd.port).scan(b"attached: " + EICAR) == "Eicar-Test-Signature"


async def test_clamd_scanner_error_answer_or_silence_is_unavailable_never_clean() -> None:
    async with fake_clamd(stream_max_bytes=1024) as clamd:
        with pytest.raises(VirusScannerUnavailableError, match="size limit exceeded"):
            await ClamdScanner(clamd.host, clamd.port).scan(os.urandom(4096))
    with pytest.raises(VirusScannerUnavailableError, match="did not answer"):
        await ClamdScanner("127.0.0.1", free_port(), timeout_seconds=2).scan(PDF)
