"""GET /v1/audit/verify: admins learn whether the audit chain is intact, or its first bad row."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import psycopg
import pytest
from sqlalchemy import make_url, select
from temporalio.client import Client

from api.auth import Role
from db.engine import create_engine, create_session_factory
from db.models import AuditLog
from tests.support.database import create_test_database, drop_test_database, owner_url
from tests.support.stack import Stack, auth, running_stack

ADMIN = auth(Role.ADMIN, sub="root", org=None)


@asynccontextmanager
async def stack_on_its_own_database(temporal: Client, sandbox_url: str) -> AsyncIterator[tuple[Stack, str]]:
    """The API (no worker) on a database of its own, which a test may tamper with; and that database's URL."""
    url = create_test_database()
    engine = create_engine(url)
    try:
        async with running_stack(temporal, create_session_factory(engine), sandbox_url, with_worker=False) as stack:
            yield stack, url
    finally:
        await engine.dispose()
        drop_test_database(url)


def as_owner(url: str, *statements: str) -> None:
    """Run `statements` as the tables' owner, in one transaction."""
    with psycopg.connect(make_url(owner_url(url)).set(drivername="postgresql").render_as_string(False)) as owner:
        for statement in statements:
            owner.execute(statement)


async def audit_rows(stack: Stack, action: str) -> list[Any]:
    async with stack.sessions() as session:
        return list((await session.execute(select(AuditLog).where(AuditLog.action == action))).scalars())


@pytest.fixture(scope="module")
async def own(temporal: Client, sandbox_url: str) -> AsyncIterator[tuple[Stack, str]]:
    async with stack_on_its_own_database(temporal, sandbox_url) as running:
        yield running


async def test_an_admin_learns_the_chain_is_intact_with_its_length_and_head(own: tuple[Stack, str]) -> None:
    stack, _ = own
    await stack.api.get("/v1/claims/" + "0" * 32, headers=ADMIN)  # a 404, audited: the chain has rows

    response = await stack.api.get("/v1/audit/verify", headers=ADMIN)

    assert response.status_code == 200, response.text
    body = response.json()
    rows = await audit_rows(stack, "request.refused")
    assert body["status"] == "intact" and body["first_bad_row"] is None and body["problem"] is None
    assert body["rows"] == body["head_id"] >= 1
    assert body["head_hash"] == max(rows, key=lambda row: row.id).row_hash
    [verified] = await audit_rows(stack, "audit.verified")
    assert (verified.actor, verified.details) == (
        "admin:root",
        {"intact": True, "rows": body["rows"], "head_id": body["head_id"]},
    )


@pytest.mark.parametrize(
    ("headers", "status"),
    [
        ({}, 401),
        (auth(Role.SUBMITTER), 403),
        (auth(Role.ADJUSTER, sub="alice", org=None), 403),
        (auth(Role.SUPERVISOR, sub="carol", org=None), 403),
    ],
)
async def test_only_admins_may_verify(own: tuple[Stack, str], headers: dict[str, str], status: int) -> None:
    stack, _ = own
    response = await stack.api.get("/v1/audit/verify", headers=headers)
    assert response.status_code == status, response.text


async def test_a_middle_row_the_owner_deleted_is_named(own: tuple[Stack, str]) -> None:
    stack, url = own
    for _ in range(3):
        await stack.api.get("/v1/claims/" + "0" * 32, headers=ADMIN)
    assert (await stack.api.get("/v1/audit/verify", headers=ADMIN)).json()["status"] == "intact"
    as_owner(
        url,
        "ALTER TABLE audit_log DISABLE TRIGGER audit_log_append_only",
        "DELETE FROM audit_log WHERE id = 2",
        "ALTER TABLE audit_log ENABLE TRIGGER audit_log_append_only",
    )

    body = (await stack.api.get("/v1/audit/verify", headers=ADMIN)).json()

    assert (body["status"], body["first_bad_row"], body["problem"]) == ("broken", 2, "deleted")
    assert body["detail"] == "row 2 is missing before row 3"
