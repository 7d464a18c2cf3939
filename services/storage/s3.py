"""Document bytes in S3-compatible object storage (AWS S3, MinIO, Ceph…), one object per SHA-256, through boto3."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

from services.storage import StoredDocumentMissingError

#: The error codes S3 answers for a key it does not have (HEAD has no body, so only its status).
MISSING = frozenset({"404", "NoSuchKey", "NotFound"})


@dataclass(frozen=True)
class S3Location:
    """Where and how to reach the bucket; empty credentials: boto3's own chain (environment, profile, role)."""

    bucket: str
    endpoint_url: str | None = None
    region: str | None = None
    access_key_id: str | None = None
    secret_access_key: str | None = None
    #: Prepended to every key, e.g. "claimflow/documents/".
    prefix: str = ""
    #: Server-side encryption asked for each object ("AES256", "aws:kms"); None: the bucket's default.
    server_side_encryption: str | None = "AES256"


class S3DocumentStore:
    """Objects `prefix + sha256`; an object already there is not written again (same key, same bytes)."""

    def __init__(self, location: S3Location) -> None:
        self.location = location
        self.client: Any = boto3.client(
            "s3",
            endpoint_url=location.endpoint_url,
            region_name=location.region,
            aws_access_key_id=location.access_key_id,
            aws_secret_access_key=location.secret_access_key,
            config=Config(retries={"max_attempts": 5, "mode": "standard"}),
        )

    def key_of(self, sha256: str) -> str:
        if len(sha256) != 64 or any(c not in "0123456789abcdef" for c in sha256):
            raise ValueError("a document's key is a SHA-256 in lowercase hex")
        return f"{self.location.prefix}{sha256}"

    async def put(self, sha256: str, data: bytes) -> bool:
        return await asyncio.to_thread(self._put, self.key_of(sha256), data)

    async def get(self, sha256: str) -> bytes:
        return await asyncio.to_thread(self._get, self.key_of(sha256))

    def _put(self, key: str, data: bytes) -> bool:
        if self._exists(key):
            return False
        extra = (
            {"ServerSideEncryption": self.location.server_side_encryption}
            if self.location.server_side_encryption
            else {}
        )
        # A PUT is atomic in S3: readers see the whole object or none.
        self.client.put_object(Bucket=self.location.bucket, Key=key, Body=data, **extra)
        return True

    def _exists(self, key: str) -> bool:
        try:
            self.client.head_object(Bucket=self.location.bucket, Key=key)
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") in MISSING:
                return False
            raise
        return True

    def _get(self, key: str) -> bytes:
        try:
            answer = self.client.get_object(Bucket=self.location.bucket, Key=key)
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") in MISSING:
                raise StoredDocumentMissingError(f"no stored document {key}") from None
            raise
        body: bytes = answer["Body"].read()
        return body
