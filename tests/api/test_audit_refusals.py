"""Refused requests (401, 403, 404, 409) on /v1 and claim validations are audited: who, where, what answer —
never the caller's free text or the claim's content."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy import func, select
from temporalio.client import Client

from api.auth import Role
from db.models import AuditLog
from tests.api.test_audit_verify import as_owner, stack_on_its_own_database
from tests.api.test_claim_lifecycle import member
from tests.support.stack import Stack, auth

CLAIM_ID = "0123456789abcdef0123456789abcdef"


async def last_id(stack: Stack) -> int:
    async with stack.sessions() as session:
        return (await session.scalar(select(func.max(AuditLog.id)))) or 0


async def rows_after(stack: Stack, mark: int) -> list[AuditLog]:
    async with stack.sessions() as session:
        return list((await session.scalars(select(AuditLog).where(AuditLog.id > mark).order_by(AuditLog.id))).all())


async def refusal_of(stack: Stack, method: str, path: str, **kwargs: Any) -> tuple[int, AuditLog]:
    """Send one request; its status and the one audit row it wrote."""
    mark = await last_id(stack)
    response = await stack.api.request(method, path, **kwargs)
    [row] = await rows_after(stack, mark)
    return response.status_code, row


async def test_no_token_is_401_audited_as_anonymous_with_the_route_template(stack: Stack) -> None:
    status, row = await refusal_of(stack, "GET", f"/v1/claims/{CLAIM_ID}")

    assert status == 401
    assert (row.action, row.actor, row.claim_id) == ("request.refused", "anonymous", CLAIM_ID)
    assert row.details == {"method": "GET", "route": "/v1/claims/{claim_id}", "status": 401, "code": "unauthorized"}


async def test_a_bad_token_is_401_audited_as_anonymous(stack: Stack) -> None:
    status, row = await refusal_of(stack, "GET", "/v1/claims", headers={"Authorization": "Bearer not-a-token"})

    assert status == 401
    assert (row.actor, row.details["route"], row.details["status"]) == ("anonymous", "/v1/claims", 401)


async def test_a_role_refused_is_403_audited_with_the_tokens_subject(stack: Stack) -> None:
    status, row = await refusal_of(stack, "GET", "/v1/audit/verify", headers=auth(Role.SUBMITTER, sub="sam"))

    assert status == 403
    assert row.actor == "submitter:sam"
    assert row.details == {"method": "GET", "route": "/v1/audit/verify", "status": 403, "code": "forbidden"}


async def test_a_claim_not_found_is_404_audited_with_the_subject_and_claim_id(stack: Stack) -> None:
    status, row = await refusal_of(stack, "GET", f"/v1/claims/{CLAIM_ID}", headers=auth(Role.SUBMITTER, sub="sam"))

    assert status == 404
    assert (row.actor, row.claim_id, row.details["status"]) == ("submitter:sam", CLAIM_ID, 404)


async def test_a_path_that_is_no_claim_id_is_not_recorded(stack: Stack) -> None:
    status, row = await refusal_of(stack, "GET", "/v1/claims/Ana Ruiz 1980-04-02", headers=stack.headers)

    assert status == 404
    assert row.claim_id is None
    assert row.details["route"] == "/v1/claims/{claim_id}"
    assert "Ruiz" not in repr((row.event_key, row.actor, row.details))


async def test_an_unknown_v1_route_is_404_audited_as_unmatched(stack: Stack) -> None:
    status, row = await refusal_of(stack, "GET", "/v1/patients/Ana-Ruiz", headers=stack.headers)

    assert status == 404
    assert (row.actor, row.details["route"], row.details["code"]) == ("anonymous", "unmatched", "http_error")
    assert "Ruiz" not in repr(row.details)


async def test_a_conflict_is_409_audited(stack: Stack) -> None:
    admin = auth(Role.ADMIN, sub="root", org=None)
    body = {"code": "80053", "description": "Comprehensive metabolic panel", "effective_date": "2020-01-01"}
    await stack.api.post("/v1/codes/cpt", json=body, headers=admin)  # exists already, or now

    status, row = await refusal_of(stack, "POST", "/v1/codes/cpt", json=body, headers=admin)

    assert status == 409
    assert (row.actor, row.details["route"], row.details["status"]) == ("admin:root", "/v1/codes/{kind}", 409)


async def test_answers_outside_v1_and_other_statuses_are_not_audited(stack: Stack) -> None:
    mark = await last_id(stack)

    assert (await stack.api.get("/nowhere")).status_code == 404
    assert (await stack.api.get("/v1/claims?limit=0", headers=stack.headers)).status_code == 422

    assert await rows_after(stack, mark) == []


async def test_validate_is_audited_with_the_outcome_and_nothing_of_the_claim(stack: Stack) -> None:
    body = member("M")
    mark = await last_id(stack)

    response = await stack.api.post("/v1/claims/validate", json=body, headers=stack.headers)

    assert response.status_code == 200, response.text
    [row] = await rows_after(stack, mark)
    assert (row.action, row.actor, row.claim_id) == ("claim.validated", "submitter:tester", None)
    assert set(row.details) == {"valid", "issues"}
    assert row.details["valid"] is (not response.json()["errors"])
    for value in (body["patient"]["last_name"], body["patient"]["member_id"], body["patient_control_number"]):
        assert value not in repr((row.event_key, row.details))


@pytest.fixture
async def stack_without_audit_inserts(temporal: Client, sandbox_url: str) -> AsyncIterator[Stack]:
    """The API on a database where the application's role has lost INSERT on the audit log."""
    async with stack_on_its_own_database(temporal, sandbox_url) as (stack, url):
        async with stack.sessions() as session:
            role = (await session.execute(select(func.current_user()))).scalar_one()
        as_owner(url, f'REVOKE INSERT ON audit_log FROM "{role}"')
        yield stack


async def test_a_refusal_whose_audit_write_fails_keeps_its_status_and_logs_no_request_content(
    stack_without_audit_inserts: Stack, caplog: pytest.LogCaptureFixture
) -> None:
    stack = stack_without_audit_inserts
    with caplog.at_level(logging.WARNING, logger="api.refusal_audit"):
        response = await stack.api.get("/v1/claims/Ana-Ruiz-secret", headers=stack.headers)

    assert response.status_code == 404
    [record] = [r for r in caplog.records if r.name == "api.refusal_audit"]
    assert "audit.refusal_not_recorded" in record.getMessage()
    assert "Ruiz" not in record.getMessage() and record.exc_info is None
