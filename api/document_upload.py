"""A document upload's multipart body, read as it streams in: the file is counted against the size limit chunk by
chunk, so an oversize upload is refused (413) without being buffered whole; the text fields are small and named."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError
from python_multipart.exceptions import MultipartParseError
from python_multipart.multipart import MultipartParser, parse_options_header

from api.schemas.documents import DocumentForm
from services.documents import UnsupportedDocumentFormatError, too_large

#: The upload route's paths: they count the file against the document limit, not the API's body limit.
DOCUMENT_UPLOADS = re.compile(r"/v1/claims/[^/]+/documents")
#: The form's parts: the file, and its text fields.
FILE_PART = "file"
TEXT_PARTS = frozenset({"type", "name", "document_id"})
#: A text field's longest value, in bytes (a name is at most 200 characters).
TEXT_MAX_BYTES = 1024
#: Room for the form's boundaries, part headers and text fields beyond the file itself.
FORM_OVERHEAD_BYTES = 64 * 1024


class MultipartRequiredError(UnsupportedDocumentFormatError):
    """The request body is not multipart/form-data (HTTP 415)."""

    code = "multipart_required"


@dataclass(frozen=True)
class UploadForm:
    """The parsed form: its checked text fields, the file's bytes and the file name the client gave."""

    form: DocumentForm
    data: bytes
    filename: str | None


def form_error(path: str, message: str, rule: str) -> RequestValidationError:
    """A 422 in the shape every other request error has (api.errors renders it)."""
    return RequestValidationError([{"loc": ("body", path), "msg": message, "type": rule}])


@dataclass
class _Part:
    name: str | None = None
    filename: str | None = None
    data: bytearray = field(default_factory=bytearray)


class _FormReader:
    """python-multipart's callbacks: collects the parts, enforcing every limit as the bytes arrive."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self.parts: dict[str, _Part] = {}
        self.part = _Part()
        self.header_field = bytearray()
        self.header_value = bytearray()
        self.headers: dict[bytes, bytes] = {}
        self.ended = False

    def callbacks(self) -> Any:
        return {
            "on_part_begin": self.on_part_begin,
            "on_part_data": self.on_part_data,
            "on_header_field": lambda data, start, end: self.header_field.extend(data[start:end]),
            "on_header_value": lambda data, start, end: self.header_value.extend(data[start:end]),
            "on_header_end": self.on_header_end,
            "on_headers_finished": self.on_headers_finished,
            "on_end": self.on_end,
        }

    def on_part_begin(self) -> None:
        self.part, self.headers = _Part(), {}

    def on_header_end(self) -> None:
        self.headers[bytes(self.header_field).lower()] = bytes(self.header_value)
        self.header_field.clear()
        self.header_value.clear()

    def on_headers_finished(self) -> None:
        _, options = parse_options_header(self.headers.get(b"content-disposition", b""))
        name = options.get(b"name", b"").decode("utf-8", errors="replace")
        if name != FILE_PART and name not in TEXT_PARTS:
            allowed = ", ".join([FILE_PART, *sorted(TEXT_PARTS)])
            raise form_error(name or "body", f"not a field of this form; its fields are {allowed}", "extra_forbidden")
        if name in self.parts:
            raise form_error(name, "sent twice; send each field once", "duplicate")
        filename = options.get(b"filename")
        self.part.name = name
        self.part.filename = filename.decode("utf-8", errors="replace") if filename is not None else None
        self.parts[name] = self.part

    def on_part_data(self, data: bytes, start: int, end: int) -> None:
        self.part.data.extend(data[start:end])
        if self.part.name == FILE_PART:
            if len(self.part.data) > self.max_bytes:
                raise too_large(self.max_bytes)
        elif len(self.part.data) > TEXT_MAX_BYTES:
            raise form_error(self.part.name or "body", f"at most {TEXT_MAX_BYTES} bytes", "string_too_long")

    def on_end(self) -> None:
        self.ended = True


async def read_upload(request: Request, max_bytes: int) -> UploadForm:
    """The upload's form, read from the request body as it arrives; 415 if the body is not multipart/form-data,
    413 as soon as the file passes `max_bytes`, 422 for a malformed form or a missing or invalid field."""
    media_type, options = parse_options_header(request.headers.get("content-type"))
    boundary = options.get(b"boundary")
    if media_type != b"multipart/form-data" or not boundary:
        raise MultipartRequiredError(
            "send the document as multipart/form-data: a `file` part and a `type` field (curl -F file=@scan.pdf "
            "-F type=medical_record)"
        )
    reader = _FormReader(max_bytes)
    parser = MultipartParser(boundary, reader.callbacks())
    received = 0
    try:
        async for chunk in request.stream():
            received += len(chunk)
            if received > max_bytes + FORM_OVERHEAD_BYTES:
                raise too_large(max_bytes)
            parser.write(chunk)
        parser.finalize()
    except MultipartParseError:
        raise form_error("body", "not a well-formed multipart/form-data body", "multipart_invalid") from None
    if not reader.ended:
        raise form_error("body", "the multipart body ended before its closing boundary", "multipart_incomplete")
    file = reader.parts.get(FILE_PART)
    if file is None:
        raise form_error(FILE_PART, "a `file` part with the document is required", "missing")
    try:
        fields = {name: bytes(part.data).decode("utf-8") for name, part in reader.parts.items() if name in TEXT_PARTS}
    except UnicodeDecodeError:
        raise form_error("body", "text fields must be UTF-8", "unicode_invalid") from None
    if "name" not in fields and "document_id" not in fields and file.filename:
        fields["name"] = file.filename  # a new document's default name; a new version keeps its document's
    try:
        form = DocumentForm.model_validate(fields)
    except ValidationError as invalid:
        raise RequestValidationError(
            [{**error, "loc": ("body", *error["loc"])} for error in invalid.errors(include_input=False)]
        ) from None
    return UploadForm(form=form, data=bytes(file.data), filename=file.filename)
