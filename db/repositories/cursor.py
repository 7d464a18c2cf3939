"""Opaque keyset cursors: the sort key of a page's last row (its parts, text or time) as url-safe base64 JSON.

One codec for every listing: claims resume after (created_at, claim_id), codes after their code. A cursor
that is not one of ours, or not of the shape the listing expects, is InvalidCursorError.
"""

from __future__ import annotations

import base64
import binascii
import json
from datetime import datetime
from typing import Any, TypeVar, overload

from db.errors import InvalidCursorError

#: What a key part may be; a datetime travels as ISO 8601 and must come back timezone-aware.
KeyPart = str | datetime
P1 = TypeVar("P1", str, datetime)
P2 = TypeVar("P2", str, datetime)


def encode_cursor(*key: KeyPart) -> str:
    """The cursor that resumes a listing after the row with this sort key."""
    parts = [part.isoformat() if isinstance(part, datetime) else part for part in key]
    raw = json.dumps(parts, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


@overload
def decode_cursor(cursor: str, first: type[P1], /) -> tuple[P1]: ...


@overload
def decode_cursor(cursor: str, first: type[P1], second: type[P2], /) -> tuple[P1, P2]: ...


def decode_cursor(cursor: str, *shape: type[Any]) -> tuple[KeyPart, ...]:
    """The sort key a cursor resumes after, one part per type in `shape`; InvalidCursorError if it is not
    a cursor encode_cursor wrote for a key of this shape."""
    try:
        raw = base64.b64decode(cursor + "=" * (-len(cursor) % 4), altchars=b"-_", validate=True)
        parts = json.loads(raw)
    except (ValueError, binascii.Error, UnicodeDecodeError) as error:
        raise InvalidCursorError() from error
    if not isinstance(parts, list) or len(parts) != len(shape):
        raise InvalidCursorError()
    return tuple(_part(part, kind) for part, kind in zip(parts, shape, strict=True))


def _part(part: object, kind: type[Any]) -> KeyPart:
    if not isinstance(part, str) or not part:
        raise InvalidCursorError()
    if kind is str:
        return part
    try:
        at = datetime.fromisoformat(part)
    except ValueError as error:
        raise InvalidCursorError() from error
    if at.tzinfo is None:
        raise InvalidCursorError()
    return at
