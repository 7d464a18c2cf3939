"""The CAQH CORE connectivity envelope (vC2.2.0) as the sandbox reads and writes it: multipart/form-data fields."""

from __future__ import annotations

import email.parser
import email.policy
import uuid
from datetime import UTC, datetime

from fastapi import Response

CORE_RULE_VERSION = "2.2.0"
#: The fields every request envelope carries (rule vC2.2.0, section 4).
REQUIRED = (
    "PayloadType",
    "ProcessingMode",
    "PayloadID",
    "TimeStamp",
    "SenderID",
    "ReceiverID",
    "CORERuleVersion",
    "Payload",
)


class EnvelopeError(ValueError):
    """The request is not a CORE envelope: `code` is the CORE ErrorCode, the message names the field."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


def read_envelope(content_type: str, body: bytes) -> dict[str, str]:
    """The envelope's fields by name; EnvelopeError when it is not multipart/form-data or lacks a field."""
    if not content_type.lower().startswith("multipart/form-data"):
        raise EnvelopeError("EnvelopeError", "the CORE envelope is sent as multipart/form-data")
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
        b"Content-Type: " + content_type.encode("latin-1") + b"\r\n\r\n" + body
    )
    fields: dict[str, str] = {}
    for part in message.iter_parts() if message.is_multipart() else []:
        name = part.get_param("name", header="content-disposition")
        raw = part.get_payload(decode=True)
        if isinstance(name, str) and isinstance(raw, bytes):
            fields[name] = raw.decode(part.get_content_charset() or "utf-8")
    missing = [name for name in REQUIRED if not fields.get(name)]
    if missing:
        raise EnvelopeError("EnvelopeError", f"the CORE envelope lacks {', '.join(missing)}")
    if fields["CORERuleVersion"] != CORE_RULE_VERSION:
        raise EnvelopeError("VersionMismatch", f"CORERuleVersion {CORE_RULE_VERSION} is the one the sandbox speaks")
    if fields["ProcessingMode"] not in ("Batch", "RealTime"):
        raise EnvelopeError("ProcessingModeNotSupported", "ProcessingMode is Batch or RealTime")
    return fields


def envelope_response(
    status_code: int,
    request: dict[str, str],
    *,
    payload_type: str,
    payload: str = "",
    error_code: str = "Success",
    error_message: str = "",
) -> Response:
    """The answering envelope: sender and receiver swapped, the request's mode, an ErrorCode (Success or why not)."""
    fields = {
        "PayloadType": payload_type,
        "ProcessingMode": request.get("ProcessingMode", "RealTime"),
        "PayloadID": str(uuid.uuid4()),
        "TimeStamp": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "SenderID": request.get("ReceiverID", "SANDBOX"),
        "ReceiverID": request.get("SenderID", ""),
        "CORERuleVersion": CORE_RULE_VERSION,
        "Payload": payload,
        "ErrorCode": error_code,
        "ErrorMessage": error_message,
    }
    boundary = f"core-{uuid.uuid4().hex}"
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'
        for name, value in fields.items()
    ]
    body = ("".join(parts) + f"--{boundary}--\r\n").encode()
    return Response(body, status_code=status_code, media_type=f"multipart/form-data; boundary={boundary}")
