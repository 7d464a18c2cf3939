"""Opaque keyset cursors for claim listings: (created_at, claim_id) in url-safe base64."""

from __future__ import annotations

import base64
import binascii
import json
from datetime import datetime

from db.errors import InvalidCursorError


def encode_cursor(created_at: datetime, claim_id: str) -> str:
    """The cursor that resumes a listing after this claim."""
    raw = json.dumps([created_at.isoformat(), claim_id], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def decode_cursor(cursor: str) -> tuple[datetime, str]:
    """The (created_at, claim_id) a cursor resumes after; InvalidCursorError if it is not one of ours."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        created_at, claim_id = json.loads(raw)
        if not isinstance(created_at, str) or not isinstance(claim_id, str):
            raise ValueError("cursor fields are not strings")
        at = datetime.fromisoformat(created_at)
    except (ValueError, TypeError, binascii.Error, UnicodeDecodeError) as error:
        raise InvalidCursorError() from error
    if at.tzinfo is None:
        raise InvalidCursorError()
    return at, claim_id
