"""Signed updates: the API signs every update it sends to a claim (Ed25519); the worker refuses any it did not sign.

Temporal's frontend accepts an update from anyone who can reach it, and the update names its own
author and authority. So the API, which authenticated the caller, signs what it sends — the
workflow id, the update's name, its input and when — with a private key only the API holds; the
worker checks the signature against the public keys it trusts (several, for rotation) before the
workflow's own validator runs (workers/update_guard.py). A forged, altered, replayed-elsewhere or
stale update is refused and leaves no trace in the claim's history.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Mapping
from datetime import datetime, timedelta

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from pydantic import BaseModel, ConfigDict

#: How long a signed update stays valid: enough for retries, too short to keep a captured one for later.
MAX_AGE = timedelta(minutes=5)
#: The failure type of a refused (unsigned, forged, stale) update.
UNSIGNED_UPDATE = "update_not_signed"


class UpdateSignature(BaseModel):
    """Who signed (the key's id), when, and the signature over the update."""

    model_config = ConfigDict(frozen=True)

    key_id: str
    signed_at: datetime
    value: str  # base64


class UpdateRefused(Exception):
    """The update carries no valid signature from a trusted key; the message says which check failed."""


def key_id(public_key: Ed25519PublicKey) -> str:
    """A public key's id: the start of the SHA-256 of its raw bytes."""
    return hashlib.sha256(public_key.public_bytes(Encoding.Raw, PublicFormat.Raw)).hexdigest()[:16]


def _signed_bytes(workflow_id: str, update: str, arg: BaseModel, signed_at: datetime) -> bytes:
    document = {
        "workflow_id": workflow_id,
        "update": update,
        "input": arg.model_dump(mode="json", exclude={"signature"}),
        "signed_at": signed_at.isoformat(),
    }
    return json.dumps(document, sort_keys=True, separators=(",", ":")).encode()


def sign(
    private_key: Ed25519PrivateKey, workflow_id: str, update: str, arg: BaseModel, at: datetime
) -> UpdateSignature:
    value = private_key.sign(_signed_bytes(workflow_id, update, arg, at))
    return UpdateSignature(
        key_id=key_id(private_key.public_key()), signed_at=at, value=base64.b64encode(value).decode()
    )


def verify(
    trusted: Mapping[str, Ed25519PublicKey],
    workflow_id: str,
    update: str,
    arg: BaseModel,
    signature: UpdateSignature | None,
    now: datetime,
) -> None:
    """Raise UpdateRefused unless a trusted key signed exactly this update for this workflow within MAX_AGE."""
    if signature is None:
        raise UpdateRefused("the update is not signed; send it through the claimflow API")
    public_key = trusted.get(signature.key_id)
    if public_key is None:
        raise UpdateRefused("the update is signed with a key this worker does not trust")
    if not (now - MAX_AGE <= signature.signed_at <= now + MAX_AGE):
        raise UpdateRefused("the update's signature has expired; send it again through the claimflow API")
    try:
        public_key.verify(
            base64.b64decode(signature.value, validate=True),
            _signed_bytes(workflow_id, update, arg, signature.signed_at),
        )
    except (InvalidSignature, ValueError):
        raise UpdateRefused("the update's signature does not match it") from None
