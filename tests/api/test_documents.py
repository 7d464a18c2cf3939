"""Claims' documents over the API: upload, list, versions, the bytes back, the limits (413/415/422), the virus scan,
access (another organization's claim or document is 404), search by claim, type, name and date with paging, and the
audit entries every read and write leaves (ids, type, version, SHA-256; never the name)."""

from __future__ import annotations

import asyncio
import hashlib
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.client import Client

from api.app import create_app
from api.auth import Role
from services import documents
from services.access import Principal
from services.documents import DocumentConfig
from services.errors import NotFoundError
from services.storage.clamd import ClamdScanner
from services.storage.filesystem import FilesystemDocumentStore
from tests.api.test_claim_lifecycle import member
from tests.services.fake_clamd import EICAR, fake_clamd
from tests.support.stack import Stack, auth, config_for_tests

PDF = b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + bytes(17)
NOTE = b"Itemized bill, page 1 of 1\nCMP 80053 45.00\n"


def org() -> str:
    return f"org-docs-{uuid.uuid4().hex[:8]}"


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


async def submit(api: httpx.AsyncClient, headers: dict[str, str], prefix: str = "M") -> str:
    response = await api.post("/v1/claims", json=member(prefix), headers=headers)
    assert response.status_code == 202, response.text
    claim_id: str = response.json()["claim_id"]
    return claim_id


async def upload(
    api: httpx.AsyncClient,
    claim_id: str,
    headers: dict[str, str],
    data: bytes,
    *,
    type: str = "medical_record",
    name: str | None = "chart.pdf",
    document_id: str | None = None,
    declared: str = "application/octet-stream",
) -> httpx.Response:
    fields = {"type": type} | ({"name": name} if name is not None else {})
    if document_id is not None:
        fields["document_id"] = document_id
    return await api.post(
        f"/v1/claims/{claim_id}/documents",
        files={"file": ("upload.bin", data, declared)},
        data=fields,
        headers=headers,
    )


async def uploaded(api: httpx.AsyncClient, claim_id: str, headers: dict[str, str], data: bytes, **fields: Any) -> dict:
    response = await upload(api, claim_id, headers, data, **fields)
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


async def audit_rows(sessions: async_sessionmaker[AsyncSession], actor: str, action: str) -> list[dict[str, Any]]:
    async with sessions() as session:
        rows = await session.execute(
            text("SELECT claim_id, details FROM audit_log WHERE actor = :actor AND action = :action ORDER BY id"),
            {"actor": actor, "action": action},
        )
        return [{"claim_id": row.claim_id, "details": row.details} for row in rows]


async def test_upload_lists_and_reads_back_the_bytes_in_the_sniffed_format(stack: Stack) -> None:
    submitter = auth(Role.SUBMITTER, "doc-uploader", org())
    claim_id = await submit(stack.api, submitter)

    response = await upload(stack.api, claim_id, submitter, PDF, name="Lab report — März.pdf", declared="text/plain")

    assert response.status_code == 201, response.text
    document = response.json()
    assert response.headers["Location"] == f"/v1/documents/{document['document_id']}"
    assert document["claim_id"] == claim_id
    assert document["type"] == "medical_record"
    assert document["name"] == "Lab report — März.pdf"
    assert document["versions"] == 1
    assert document["latest"]["content_type"] == "application/pdf"  # from the bytes, not the declared text/plain
    assert document["latest"]["sha256"] == sha(PDF)
    assert document["latest"]["size"] == len(PDF)
    assert document["latest"]["uploaded_by"] == "submitter:doc-uploader"

    listed = (await stack.api.get(f"/v1/claims/{claim_id}/documents", headers=submitter)).json()
    assert listed["count"] == 1
    assert listed["data"] == [document]

    read = await stack.api.get(f"/v1/documents/{document['document_id']}", headers=submitter)
    assert read.status_code == 200
    assert read.content == PDF
    assert read.headers["content-type"] == "application/pdf"
    assert read.headers["content-disposition"] == (
        "attachment; filename=\"Lab report _ M_rz.pdf\"; filename*=UTF-8''Lab%20report%20%E2%80%94%20M%C3%A4rz.pdf"
    )
    assert read.headers["x-content-type-options"] == "nosniff"
    assert read.headers["etag"] == f'"{sha(PDF)}"'


async def test_name_defaults_to_the_file_name_and_plain_text_and_png_are_taken(stack: Stack) -> None:
    submitter = auth(Role.SUBMITTER, "doc-kinds", org())
    claim_id = await submit(stack.api, submitter)

    text_document = await uploaded(stack.api, claim_id, submitter, NOTE, type="itemized_bill", name=None)
    png_document = await uploaded(stack.api, claim_id, submitter, PNG, type="referral", name="referral.png")

    assert text_document["name"] == "upload.bin"
    assert text_document["latest"]["content_type"] == "text/plain"
    assert png_document["latest"]["content_type"] == "image/png"
    read = await stack.api.get(f"/v1/documents/{text_document['document_id']}", headers=submitter)
    assert read.headers["content-type"] == "text/plain; charset=utf-8"
    assert read.content == NOTE


async def test_a_new_version_becomes_the_latest_and_the_old_one_stays_readable(stack: Stack) -> None:
    submitter = auth(Role.SUBMITTER, "doc-versions", org())
    claim_id = await submit(stack.api, submitter)
    first = await uploaded(stack.api, claim_id, submitter, PDF, type="lab_report", name="results.pdf")
    document_id = first["document_id"]
    second_bytes = PDF + b"% corrected\n"

    second = await uploaded(
        stack.api, claim_id, submitter, second_bytes, type="lab_report", name=None, document_id=document_id
    )

    assert second["document_id"] == document_id
    assert second["versions"] == 2
    assert second["name"] == "results.pdf"  # no name given: the document keeps its name
    assert second["latest"]["version"] == 2
    assert second["latest"]["sha256"] == sha(second_bytes)
    [listed] = (await stack.api.get(f"/v1/claims/{claim_id}/documents", headers=submitter)).json()["data"]
    assert (listed["versions"], listed["latest"]["version"]) == (2, 2)
    latest = await stack.api.get(f"/v1/documents/{document_id}", headers=submitter)
    assert (latest.content, latest.headers["x-document-version"]) == (second_bytes, "2")
    old = await stack.api.get(f"/v1/documents/{document_id}", params={"version": 1}, headers=submitter)
    assert (old.content, old.headers["x-document-version"]) == (PDF, "1")
    missing = await stack.api.get(f"/v1/documents/{document_id}", params={"version": 3}, headers=submitter)
    assert missing.status_code == 404


async def test_a_new_version_must_keep_the_type_and_name_a_document_of_the_same_claim(stack: Stack) -> None:
    submitter = auth(Role.SUBMITTER, "doc-version-rules", org())
    claim_id = await submit(stack.api, submitter)
    other_claim = await submit(stack.api, submitter)
    document_id = (await uploaded(stack.api, claim_id, submitter, PDF, type="lab_report"))["document_id"]

    retyped = await upload(stack.api, claim_id, submitter, PDF, type="referral", document_id=document_id)
    elsewhere = await upload(stack.api, other_claim, submitter, PDF, type="lab_report", document_id=document_id)

    assert retyped.status_code == 422
    assert retyped.json()["errors"][0]["rule"] == "document.same_type"
    assert elsewhere.status_code == 404


async def test_limits_are_checked_on_the_bytes_415_413_and_422(stack: Stack) -> None:
    submitter = auth(Role.SUBMITTER, "doc-limits", org())
    claim_id = await submit(stack.api, submitter)
    zip_archive = b"PK\x03\x04" + bytes(40)

    not_taken = await upload(stack.api, claim_id, submitter, zip_archive, declared="application/pdf")
    empty = await upload(stack.api, claim_id, submitter, b"", declared="application/pdf")
    too_large = await upload(stack.api, claim_id, submitter, b"%PDF-" + bytes(10 * 1024 * 1024))
    not_multipart = await stack.api.post(f"/v1/claims/{claim_id}/documents", json={"type": "other"}, headers=submitter)
    untyped = await upload(stack.api, claim_id, submitter, PDF, type="selfie")

    assert not_taken.status_code == 415
    assert not_taken.json()["code"] == "unsupported_document_format"
    assert "application/pdf, image/png, image/jpeg, image/tiff, text/plain" in not_taken.json()["detail"]
    assert (empty.status_code, empty.json()["code"]) == (422, "document_empty")
    assert (too_large.status_code, too_large.json()["code"]) == (413, "document_too_large")
    assert (not_multipart.status_code, not_multipart.json()["code"]) == (415, "multipart_required")
    assert untyped.status_code == 422
    assert untyped.json()["errors"][0]["path"] == "type"
    listed = (await stack.api.get(f"/v1/claims/{claim_id}/documents", headers=submitter)).json()
    assert listed["count"] == 0  # nothing refused was recorded


async def test_an_oversize_upload_is_refused_while_it_streams_not_after_it_was_read_whole(stack: Stack) -> None:
    submitter = auth(Role.SUBMITTER, "doc-stream", org())
    claim_id = await submit(stack.api, submitter)
    boundary = "claimflowboundary"
    chunk = bytes(1024 * 1024)
    pulled = 0

    async def endless_file() -> AsyncIterator[bytes]:
        nonlocal pulled
        yield (
            f'--{boundary}\r\nContent-Disposition: form-data; name="type"\r\n\r\nlab_report\r\n'
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="big.pdf"\r\n'
            "Content-Type: application/pdf\r\n\r\n%PDF-"
        ).encode()
        for _ in range(100):  # 100 MiB if it were all read
            pulled += 1
            yield chunk

    response = await stack.api.post(
        f"/v1/claims/{claim_id}/documents",
        content=endless_file(),
        headers={**submitter, "Content-Type": f"multipart/form-data; boundary={boundary}"},
    )

    assert response.status_code == 413
    assert pulled <= 12  # the 10 MiB limit and a chunk or two in flight, not the 100 MiB sent


async def test_another_organizations_claim_and_documents_are_404_and_absent_from_its_search(stack: Stack) -> None:
    owner, stranger = auth(Role.SUBMITTER, "doc-owner", org()), auth(Role.SUBMITTER, "doc-stranger", org())
    claim_id = await submit(stack.api, owner)
    document_id = (await uploaded(stack.api, claim_id, owner, PDF, name="private.pdf"))["document_id"]

    assert (await stack.api.get(f"/v1/claims/{claim_id}/documents", headers=stranger)).status_code == 404
    assert (await stack.api.get(f"/v1/documents/{document_id}", headers=stranger)).status_code == 404
    old = await stack.api.get(f"/v1/documents/{document_id}", params={"version": 1}, headers=stranger)
    assert old.status_code == 404
    assert (await upload(stack.api, claim_id, stranger, PDF)).status_code == 404
    versioned = await upload(stack.api, claim_id, stranger, PDF, document_id=document_id)
    assert versioned.status_code == 404
    found = (await stack.api.get("/v1/documents", params={"claim_id": claim_id}, headers=stranger)).json()
    assert found["data"] == []
    # the same document id is 404 whether it exists or not: nothing tells a stranger it is there
    unknown = await stack.api.get(f"/v1/documents/{uuid.uuid4().hex}", headers=stranger)
    assert unknown.json()["detail"].startswith("no document ")


async def test_the_assigned_adjuster_and_the_supervisor_read_and_upload_and_another_adjuster_gets_404(
    stack: Stack,
) -> None:
    submitter = auth(Role.SUBMITTER, "doc-review", org())
    claim_id = await submit(stack.api, submitter, "DENY")
    assigned = (await stack.wait_for(claim_id, "in_review", headers=submitter))["assigned_adjuster"]
    adjuster = auth(Role.ADJUSTER, assigned, None)
    other = auth(Role.ADJUSTER, "bob" if assigned == "alice" else "alice", None)
    supervisor = auth(Role.SUPERVISOR, "carol", None)
    document_id = (await uploaded(stack.api, claim_id, submitter, PDF, type="medical_record"))["document_id"]

    eob = await uploaded(stack.api, claim_id, adjuster, NOTE, type="explanation_of_benefits", name="eob.txt")
    by_supervisor = await uploaded(stack.api, claim_id, supervisor, PNG, type="other", name="scan.png")

    assert eob["latest"]["uploaded_by"] == f"adjuster:{assigned}"
    assert by_supervisor["latest"]["uploaded_by"] == "supervisor:carol"
    assert (await stack.api.get(f"/v1/documents/{document_id}", headers=adjuster)).content == PDF
    assert (await stack.api.get(f"/v1/documents/{document_id}", headers=supervisor)).content == PDF
    assert (await stack.api.get(f"/v1/documents/{document_id}", headers=other)).status_code == 404
    assert (await upload(stack.api, claim_id, other, PDF)).status_code == 404
    listed = (await stack.api.get(f"/v1/claims/{claim_id}/documents", headers=submitter)).json()
    assert [item["type"] for item in listed["data"]] == ["medical_record", "explanation_of_benefits", "other"]


async def test_search_by_claim_type_name_and_since_pages_newest_first(stack: Stack) -> None:
    submitter = auth(Role.SUBMITTER, "doc-search", org())
    claim_id, other_claim = await submit(stack.api, submitter), await submit(stack.api, submitter)
    bills = [
        await uploaded(stack.api, claim_id, submitter, PDF + bytes([n]), type="itemized_bill", name=f"Bill {n}.pdf")
        for n in range(3)
    ]
    middle = datetime.fromisoformat(bills[1]["latest"]["uploaded_at"])
    await uploaded(stack.api, claim_id, submitter, PDF, type="lab_report", name="Lab 100%_done.pdf")
    await uploaded(stack.api, other_claim, submitter, PDF, type="itemized_bill", name="Bill elsewhere.pdf")

    async def search(**params: Any) -> dict[str, Any]:
        response = await stack.api.get("/v1/documents", params=params, headers=submitter)
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    first = await search(claim_id=claim_id, type="itemized_bill", limit=2)
    second = await search(claim_id=claim_id, type="itemized_bill", limit=2, cursor=first["next_cursor"])
    assert [d["document_id"] for d in first["data"] + second["data"]] == [b["document_id"] for b in reversed(bills)]
    assert second["next_cursor"] is None
    by_name = await search(name="BILL")
    assert {d["name"] for d in by_name["data"]} == {"Bill 0.pdf", "Bill 1.pdf", "Bill 2.pdf", "Bill elsewhere.pdf"}
    assert [d["name"] for d in (await search(name="100%_"))["data"]] == ["Lab 100%_done.pdf"]  # % and _ literal
    assert (await search(name="Bill_0"))["data"] == []  # _ is no wildcard
    since = await search(claim_id=claim_id, type="itemized_bill", since=middle.isoformat())
    assert [d["name"] for d in since["data"]] == ["Bill 2.pdf", "Bill 1.pdf"]
    future = await search(since=datetime(2999, 1, 1, tzinfo=UTC).isoformat())
    assert future["data"] == []
    bad = await stack.api.get("/v1/documents", params={"cursor": "not-a-cursor"}, headers=submitter)
    assert (bad.status_code, bad.json()["code"]) == (400, "invalid_cursor")


async def test_reads_and_writes_are_audited_by_id_type_version_and_sha256_never_by_name(stack: Stack) -> None:
    sub = f"doc-audit-{uuid.uuid4().hex[:8]}"
    submitter = auth(Role.SUBMITTER, sub, org())
    actor = f"submitter:{sub}"
    claim_id = await submit(stack.api, submitter)
    secret_name = f"Jane Doe chart {uuid.uuid4().hex[:6]}.pdf"
    document_id = (await uploaded(stack.api, claim_id, submitter, PDF, name=secret_name))["document_id"]
    await stack.api.get(f"/v1/claims/{claim_id}/documents", headers=submitter)
    await stack.api.get(f"/v1/documents/{document_id}", headers=submitter)
    await stack.api.get("/v1/documents", params={"name": "Jane Doe", "claim_id": claim_id}, headers=submitter)

    version = {
        "document_id": document_id,
        "type": "medical_record",
        "version": 1,
        "sha256": sha(PDF),
        "size": len(PDF),
        "content_type": "application/pdf",
    }
    assert await audit_rows(stack.sessions, actor, "document.uploaded") == [{"claim_id": claim_id, "details": version}]
    assert await audit_rows(stack.sessions, actor, "document.read") == [{"claim_id": claim_id, "details": version}]
    assert await audit_rows(stack.sessions, actor, "documents.list") == [
        {"claim_id": claim_id, "details": {"document_ids": [document_id], "count": 1}}
    ]
    [searched] = await audit_rows(stack.sessions, actor, "documents.search")
    assert searched["details"]["filters"] == {"claim_id": claim_id}
    assert searched["details"]["by_name"] is True
    assert searched["details"]["document_ids"] == [document_id]
    async with stack.sessions() as session:
        leaked = await session.scalar(
            text("SELECT count(*) FROM audit_log WHERE actor = :actor AND details::text LIKE '%Jane Doe%'"),
            {"actor": actor},
        )
    assert leaked == 0


@dataclass
class ScannedApi:
    api: httpx.AsyncClient
    store: Path
    clamd: Any


@pytest.fixture
async def scanned(
    temporal: Client, sessions: async_sessionmaker[AsyncSession], tmp_path: Path
) -> AsyncIterator[ScannedApi]:
    """An API (no worker: claims only need to be recorded) whose documents go through a fake clamd into a folder of
    this test's, with a 1 KiB limit."""
    async with fake_clamd() as clamd:
        config = DocumentConfig(
            store=FilesystemDocumentStore(tmp_path), scanner=ClamdScanner(clamd.host, clamd.port), max_bytes=1024
        )
        app = create_app(config_for_tests(documents=config), _returning(temporal), sessions)
        async with (
            app.router.lifespan_context(app),
            httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://claimflow.test") as api,
        ):
            yield ScannedApi(api=api, store=tmp_path, clamd=clamd)


def _returning(temporal: Client):  # type: ignore[no-untyped-def]
    async def connect() -> Client:
        return temporal

    return connect


def stored_files(root: Path) -> list[Path]:
    return [path for path in root.rglob("*") if path.is_file()]


async def test_an_infected_file_is_refused_422_and_nothing_is_stored(scanned: ScannedApi) -> None:
    submitter = auth(Role.SUBMITTER, "doc-scan", org())
    claim_id = await submit(scanned.api, submitter)

    infected = await upload(scanned.api, claim_id, submitter, b"note: " + EICAR, name="note.txt")
    clean = await upload(scanned.api, claim_id, submitter, NOTE, name="bill.txt")

    assert infected.status_code == 422
    assert infected.json()["code"] == "document_infected"
    assert "Eicar-Test-Signature" in infected.json()["detail"]
    assert clean.status_code == 201
    assert scanned.clamd.scanned == [b"note: " + EICAR, NOTE]  # both scanned, over clamd's INSTREAM framing
    assert stored_files(scanned.store) == [scanned.store / sha(NOTE)[:2] / sha(NOTE)[2:4] / sha(NOTE)]
    listed = (await scanned.api.get(f"/v1/claims/{claim_id}/documents", headers=submitter)).json()
    assert [d["name"] for d in listed["data"]] == ["bill.txt"]


async def test_the_size_limit_is_a_setting_and_the_same_bytes_are_stored_once(scanned: ScannedApi) -> None:
    submitter = auth(Role.SUBMITTER, "doc-small", org())
    claim_id = await submit(scanned.api, submitter)

    at_limit = b"%PDF-" + bytes(1024 - 5)
    first = await upload(scanned.api, claim_id, submitter, at_limit, name="a.pdf")
    again = await upload(scanned.api, claim_id, submitter, at_limit, name="b.pdf")
    over = await upload(scanned.api, claim_id, submitter, at_limit + b"\n", name="c.pdf")

    assert (first.status_code, again.status_code, over.status_code) == (201, 201, 413)
    assert first.json()["latest"]["sha256"] == again.json()["latest"]["sha256"]
    assert len(stored_files(scanned.store)) == 1  # two documents, one stored object


async def test_the_ids_attached_so_far_are_what_an_answer_to_a_request_for_information_can_name(stack: Stack) -> None:
    owner = org()
    submitter = auth(Role.SUBMITTER, "doc-answer", owner)
    claim_id = await submit(stack.api, submitter)
    first = (await uploaded(stack.api, claim_id, submitter, PDF, type="medical_record"))["document_id"]
    second = (await uploaded(stack.api, claim_id, submitter, NOTE, type="itemized_bill", name="bill.txt"))[
        "document_id"
    ]
    await uploaded(stack.api, claim_id, submitter, PDF + b"%v2\n", type="medical_record", name=None, document_id=first)
    context = stack.api._transport.app.state.context  # type: ignore[attr-defined]
    principal = Principal(sub="doc-answer", role=Role.SUBMITTER, org=owner)

    assert await documents.attached_document_ids(context, principal, claim_id) == [first, second]
    stranger = Principal(sub="someone", role=Role.SUBMITTER, org=org())
    with pytest.raises(NotFoundError):
        await documents.attached_document_ids(context, stranger, claim_id)


async def test_concurrent_new_versions_of_one_document_are_numbered_one_after_another(stack: Stack) -> None:
    submitter = auth(Role.SUBMITTER, "doc-race", org())
    claim_id = await submit(stack.api, submitter)
    document_id = (await uploaded(stack.api, claim_id, submitter, PDF, type="lab_report"))["document_id"]

    answers = await asyncio.gather(
        *(
            upload(stack.api, claim_id, submitter, PDF + bytes([n]), type="lab_report", document_id=document_id)
            for n in range(5)
        )
    )

    assert [answer.status_code for answer in answers] == [201] * 5
    assert sorted(answer.json()["latest"]["version"] for answer in answers) == [2, 3, 4, 5, 6]
    for version in range(1, 7):
        kept = await stack.api.get(f"/v1/documents/{document_id}", params={"version": version}, headers=submitter)
        assert kept.status_code == 200
