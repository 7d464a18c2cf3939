"""The CAQH CORE connectivity envelope (rule vC2.2.0) over HTTP: MIME multipart/form-data, one payload each way.

A request carries PayloadType, ProcessingMode (Batch or RealTime), PayloadID, TimeStamp, SenderID, ReceiverID,
CORERuleVersion and the X12 Payload; the answer is the same envelope with ErrorCode (Success, or why not) and the
answering payload. Failures name the field or the HTTP status, never the payload (it is PHI).
"""

from __future__ import annotations

import email.parser
import email.policy
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import Message
from typing import Literal

import httpx

from activities.processor_client import ProcessorAnswerError, ProcessorRefusedError, ProcessorUnavailableError

CORE_RULE_VERSION = "2.2.0"
#: The payload types claimflow sends (CORE's names) and those it expects back.
SUBMIT_837P = "X12_837_Request_005010X222A1"
ACKNOWLEDGMENT_999 = "X12_999_Response_005010X231A1"
STATUS_276 = "X12_276_Request_005010X212"
STATUS_277 = "X12_277_Response_005010X212"
REMITTANCE_REQUEST = "X12_835_Request_005010X221A1"
REMITTANCE_835 = "X12_835_Response_005010X221A1"
#: Where the envelope is posted under the processor's base URL.
CORE_PATH = "/core/"

Mode = Literal["Batch", "RealTime"]


@dataclass(frozen=True)
class CoreAnswer:
    """The answering envelope: its payload type, payload and error code (PHI lives in `payload` only)."""

    payload_type: str
    payload: str
    error_code: str


class CoreTransport:
    """Posts CORE envelopes to one processor; a 4xx or an ErrorCode other than Success is final, a 5xx is not."""

    def __init__(self, http: httpx.AsyncClient, base_url: str) -> None:
        self._http = http
        self._url = base_url.rstrip("/") + CORE_PATH

    async def exchange(
        self,
        payload_type: str,
        payload: str,
        *,
        mode: Mode,
        sender_id: str,
        receiver_id: str,
        payload_id: str | None = None,
    ) -> CoreAnswer:
        """Send one envelope and read the answer. `payload_id` (default: a new uuid) names the message;
        `sender_id`/`receiver_id` are the integration's, as in the payload's ISA06/ISA08."""
        fields = {
            "PayloadType": payload_type,
            "ProcessingMode": mode,
            "PayloadID": payload_id or str(uuid.uuid4()),
            "TimeStamp": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "SenderID": sender_id,
            "ReceiverID": receiver_id,
            "CORERuleVersion": CORE_RULE_VERSION,
            "Payload": payload,
        }
        # (None, value): a form field without a filename, which makes httpx write multipart/form-data
        response = await self._http.post(self._url, files={name: (None, value) for name, value in fields.items()})
        what = f"{payload_type} envelope"
        if response.status_code >= httpx.codes.INTERNAL_SERVER_ERROR:
            raise ProcessorUnavailableError(f"the processor answered the {what} with HTTP {response.status_code}")
        if response.status_code >= httpx.codes.BAD_REQUEST:
            raise ProcessorRefusedError(response.status_code, what)
        answer = read_envelope(response.headers.get("content-type", ""), response.content, what)
        if answer.error_code != "Success":
            raise ProcessorRefusedError(response.status_code, f"{what} (CORE ErrorCode {answer.error_code[:40]})")
        return answer


def read_envelope(content_type: str, body: bytes, what: str) -> CoreAnswer:
    """The fields of a multipart/form-data CORE envelope; ProcessorAnswerError names what is missing."""
    if not content_type.lower().startswith("multipart/form-data"):
        raise ProcessorAnswerError(f"the processor's answer to the {what} is not a multipart/form-data envelope")
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
        b"Content-Type: " + content_type.encode("latin-1") + b"\r\n\r\n" + body
    )
    fields: dict[str, str] = {}
    for part in message.iter_parts() if message.is_multipart() else []:
        name = _field_name(part)
        raw = part.get_payload(decode=True)
        if name and isinstance(raw, bytes):
            fields[name] = raw.decode(part.get_content_charset() or "utf-8")
    missing = [name for name in ("PayloadType", "ErrorCode") if name not in fields]
    if missing:
        raise ProcessorAnswerError(f"the processor's answer to the {what} lacks {', '.join(missing)}")
    return CoreAnswer(fields["PayloadType"], fields.get("Payload", ""), fields["ErrorCode"])


def _field_name(part: Message) -> str | None:
    name = part.get_param("name", header="content-disposition")
    return name if isinstance(name, str) else None
