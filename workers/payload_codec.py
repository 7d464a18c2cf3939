"""AES-256-GCM encryption of every Temporal payload, with key ids and rotation: the newest key encrypts, all decrypt.

The payload format is the one of Temporal's encryption samples (Go, TypeScript, Python), so their codec servers
and tools read it too: the encoded payload's metadata says `encoding: binary/encrypted` and
`encryption-key-id: <id>`, and its data is a random 12-byte nonce followed by the AES-GCM ciphertext (with its
16-byte tag) of the whole original payload, metadata included.

Decoding passes a payload without that encoding through unchanged. Encryption here keeps what Temporal stores
confidential; it is not what makes a payload trustworthy (the API signs the updates that change a claim, and the
worker verifies them: workers/update_guard.py). Passing plaintext through lets a worker with the codec go on
running claims whose history was written before the codec was turned on (a refusal would fail their workflow
tasks forever), and read what the server writes itself. An encrypted payload whose key id is unknown, or whose
ciphertext does not authenticate, is refused.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from temporalio.api.common.v1 import Payload
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.converter import DataConverter, DefaultFailureConverterWithEncodedAttributes, PayloadCodec

from workers.settings import ConfigurationError, Environment, Settings

__all__ = [
    "ENCODING",
    "KEY_ID_METADATA",
    "EncryptionCodec",
    "PayloadDecryptionError",
    "PayloadKey",
    "codec_from_settings",
    "data_converter",
    "new_key",
    "read_keys",
]

ENCODING = b"binary/encrypted"
KEY_ID_METADATA = "encryption-key-id"
NONCE_BYTES = 12
KEY_BYTES = 32  # AES-256
#: A key id travels in clear in every payload's metadata: a name, never anything derived from the key.
KEY_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
#: The dev stack's key, made once in the data folder when encryption is turned on without keys (never in production).
DEV_KEY_ID = "dev"


class PayloadDecryptionError(ValueError):
    """An encrypted payload could not be decrypted: its key id is not configured, or its ciphertext was altered."""


@dataclass(frozen=True)
class PayloadKey:
    """One 256-bit AES key and the id that names it in the payloads it encrypts."""

    id: str
    secret: bytes = field(repr=False)

    def __post_init__(self) -> None:
        if not KEY_ID.fullmatch(self.id):
            raise ConfigurationError(
                f"payload key id {self.id[:64]!r} is not a valid id: use 1-64 letters, digits, '.', '_' or '-'"
            )
        if len(self.secret) != KEY_BYTES:
            raise ConfigurationError(
                f"payload key {self.id!r} is {len(self.secret) * 8} bits; it must be {KEY_BYTES * 8} bits "
                f"({KEY_BYTES} random bytes, base64: `openssl rand -base64 {KEY_BYTES}`)"
            )


class EncryptionCodec(PayloadCodec):
    """Encrypts with the first key (the newest); decrypts with whichever key the payload names."""

    def __init__(self, keys: Sequence[PayloadKey]) -> None:
        if not keys:
            raise ConfigurationError("payload encryption needs at least one key")
        ids = [key.id for key in keys]
        if len(set(ids)) != len(ids):
            raise ConfigurationError(f"payload key ids must be unique; given {', '.join(ids)}")
        self.key_ids = tuple(ids)
        self._encrypting_id = ids[0]
        self._encrypting = AESGCM(keys[0].secret)
        self._by_id = {key.id: AESGCM(key.secret) for key in keys}

    @property
    def encrypting_key_id(self) -> str:
        return self._encrypting_id

    async def encode(self, payloads: Sequence[Payload]) -> list[Payload]:
        return [self.encrypt(payload) for payload in payloads]

    async def decode(self, payloads: Sequence[Payload]) -> list[Payload]:
        return [self.decrypt(payload) for payload in payloads]

    def encrypt(self, payload: Payload) -> Payload:
        nonce = os.urandom(NONCE_BYTES)
        return Payload(
            metadata={"encoding": ENCODING, KEY_ID_METADATA: self._encrypting_id.encode()},
            data=nonce + self._encrypting.encrypt(nonce, payload.SerializeToString(), None),
        )

    def decrypt(self, payload: Payload) -> Payload:
        if payload.metadata.get("encoding") != ENCODING:
            return payload  # written without encryption: see the module's docstring
        key_id = payload.metadata.get(KEY_ID_METADATA, b"").decode("ascii", errors="replace")
        aes = self._by_id.get(key_id)
        if aes is None:
            raise PayloadDecryptionError(
                f"a payload is encrypted with key id {key_id[:64]!r}, which is not among the configured keys "
                f"({', '.join(self.key_ids)}); keep every key that encrypted a running claim in CLAIMFLOW_PAYLOAD_KEYS "
                "or CLAIMFLOW_PAYLOAD_KEY_FILES"
            )
        try:
            plain = aes.decrypt(payload.data[:NONCE_BYTES], payload.data[NONCE_BYTES:], None)
        except InvalidTag:
            raise PayloadDecryptionError(
                f"a payload encrypted with key id {key_id!r} does not authenticate: it was altered, or encrypted "
                "with another key of that id"
            ) from None
        return Payload.FromString(plain)


def data_converter(codec: PayloadCodec | None) -> DataConverter:
    """The project's converter (pydantic models as JSON); with a codec, payloads and failure messages and stack
    traces (moved into encoded attributes, which the codec encrypts) go through it."""
    if codec is None:
        return pydantic_data_converter
    return dataclasses.replace(
        pydantic_data_converter,
        payload_codec=codec,
        failure_converter_class=DefaultFailureConverterWithEncodedAttributes,
    )


def codec_from_settings(settings: Settings) -> EncryptionCodec | None:
    """The codec the settings ask for, or None when payload encryption is off (dev's default)."""
    if not settings.payload_encryption_enabled:
        return None
    return EncryptionCodec(read_keys(settings))


def read_keys(settings: Settings) -> list[PayloadKey]:
    """CLAIMFLOW_PAYLOAD_KEYS ("id:base64" entries) or CLAIMFLOW_PAYLOAD_KEY_FILES (a file per key, holding it in
    base64, named by its id), newest first; outside production, with neither, the data folder's dev key."""
    if settings.payload_keys and settings.payload_key_files:
        raise ConfigurationError("set CLAIMFLOW_PAYLOAD_KEYS or CLAIMFLOW_PAYLOAD_KEY_FILES, not both")
    if settings.payload_keys:
        return [
            _key_of_entry(entry.get_secret_value(), position) for position, entry in enumerate(settings.payload_keys)
        ]
    if settings.payload_key_files:
        return [_key_of_file(path) for path in settings.payload_key_files]
    if settings.environment is Environment.PRODUCTION:
        raise ConfigurationError(
            "CLAIMFLOW_PAYLOAD_KEYS or CLAIMFLOW_PAYLOAD_KEY_FILES must name the 256-bit payload encryption keys in production"
        )
    return [_key_of_file(dev_key_file(settings.data_dir))]


def _key_of_entry(entry: str, position: int) -> PayloadKey:
    key_id, separator, encoded = entry.partition(":")
    if not separator:
        raise ConfigurationError(f"CLAIMFLOW_PAYLOAD_KEYS entry {position + 1} is not 'id:base64-key'")
    return PayloadKey(key_id, _decode(encoded, f"CLAIMFLOW_PAYLOAD_KEYS entry {position + 1} ({key_id[:64]!r})"))


def _key_of_file(path: Path) -> PayloadKey:
    try:
        text = path.read_text()
    except OSError as exc:
        raise ConfigurationError(f"payload key file {path} cannot be read: {exc.strerror}") from None
    return PayloadKey(path.name, _decode(text, f"payload key file {path}"))


def _decode(encoded: str, where: str) -> bytes:
    try:
        return base64.b64decode("".join(encoded.split()), validate=True)
    except (binascii.Error, ValueError):
        raise ConfigurationError(f"{where} is not base64 (make a key with `openssl rand -base64 32`)") from None


def new_key() -> str:
    """A fresh 256-bit key in base64."""
    return base64.b64encode(os.urandom(KEY_BYTES)).decode()


def dev_key_file(data_dir: Path) -> Path:
    """The dev stack's payload key, made once (readable by this user only) and kept with its data."""
    folder = data_dir / "payload-keys"
    path = folder / DEV_KEY_ID
    if not path.exists():
        folder.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w") as out:
            out.write(new_key() + "\n")
    return path
