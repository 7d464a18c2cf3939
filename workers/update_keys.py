"""The keys that sign and verify claim updates: PEM files from settings, or in dev a key pair kept in the data folder."""

from __future__ import annotations

import os
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    load_pem_private_key,
    load_pem_public_key,
)

from workers.settings import ConfigurationError, Environment, Settings

DEV_KEY_FILE = "update-signing-key.pem"


def signing_key(settings: Settings) -> Ed25519PrivateKey:
    """The API's private key: CLAIMFLOW_UPDATE_SIGNING_KEY_FILE, or (outside production) the data folder's dev key."""
    path = settings.update_signing_key_file
    if path is None:
        if settings.environment is Environment.PRODUCTION:
            raise ConfigurationError(
                "CLAIMFLOW_UPDATE_SIGNING_KEY_FILE must name the API's Ed25519 private key (PEM) in production"
            )
        path = dev_key_file(settings.data_dir)
    key = load_pem_private_key(path.read_bytes(), password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise ConfigurationError(f"{path} is not an Ed25519 private key")
    return key


def trusted_keys(settings: Settings) -> list[Ed25519PublicKey]:
    """The public keys the worker trusts: CLAIMFLOW_UPDATE_VERIFY_KEY_FILES, else the signing key's own."""
    if not settings.update_verify_key_files:
        if settings.environment is Environment.PRODUCTION:
            raise ConfigurationError(
                "CLAIMFLOW_UPDATE_VERIFY_KEY_FILES must list the API's Ed25519 public keys (PEM) in production"
            )
        return [signing_key(settings).public_key()]
    keys = []
    for path in settings.update_verify_key_files:
        key = load_pem_public_key(path.read_bytes())
        if not isinstance(key, Ed25519PublicKey):
            raise ConfigurationError(f"{path} is not an Ed25519 public key")
        keys.append(key)
    return keys


def dev_key_file(data_dir: Path) -> Path:
    """The dev stack's key pair, made once and kept with its data."""
    path = data_dir / DEV_KEY_FILE
    if not path.exists():
        data_dir.mkdir(parents=True, exist_ok=True)
        write_private_key(Ed25519PrivateKey.generate(), path)
    return path


def write_private_key(key: Ed25519PrivateKey, path: Path) -> Path:
    """Write `key` as PEM to a new file only this user can read."""
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as out:
        out.write(key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption()))
    return path
