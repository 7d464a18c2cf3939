"""Property-based requests from the API's own OpenAPI document (schemathesis): no 5xx, and every answer is
documented — its status, its content type and its body's schema — for every operation, as several roles."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.client import Client

from api.auth import Role
from tests.support.database import owner_session
from tests.support.stack import Stack, auth, running_stack

#: Requests generated per operation and caller; the table of operations by callers keeps the total in the hundreds.
EXAMPLES = 12
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
CALLERS: dict[str, dict[str, str]] = {
    "anonymous": {},
    "submitter": auth(Role.SUBMITTER, sub="fuzz-submitter", org="org-fuzz"),
    "adjuster": auth(Role.ADJUSTER, sub="alice", org=None),
    "admin": auth(Role.ADMIN, sub="fuzz-admin", org=None),
}


def generated_cases(schema: Any) -> list[tuple[str, Any]]:
    """EXAMPLES cases of every operation, drawn once (derandomized: the same run every time)."""
    cases: list[tuple[str, Any]] = []
    for result in schema.get_all_operations():
        operation = result.ok()
        label = operation.label

        @settings(
            max_examples=EXAMPLES,
            derandomize=True,
            database=None,
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck),
            deadline=None,
        )
        @given(case=operation.as_strategy())
        def collect(case: Any) -> None:
            cases.append((label, case))  # noqa: B023 (collect runs before label moves on)

        collect()
    return cases


@pytest.fixture(scope="module")
async def stack(temporal: Client, sessions: async_sessionmaker[AsyncSession], sandbox_url: str) -> AsyncIterator[Stack]:
    """The stack, with event streams that end after a moment: a generated request to a stream is answered (by a
    stream that ends, as every stream does after its time) instead of held open for good."""
    async with running_stack(temporal, sessions, sandbox_url, event_stream_max_seconds=0.2) as running:
        yield running


@pytest.fixture
async def assignment_kept(stack: Stack) -> AsyncIterator[None]:
    """The fuzzing admin adds adjusters and versions of the assignment rules (one may send every claim to a team
    nobody is in): they are removed afterwards, so later modules' claims are assigned as before."""
    async with stack.sessions() as session:
        adjusters = list(await session.scalars(text("SELECT adjuster_id FROM adjuster")))
        newest = await session.scalar(text("SELECT max(version) FROM assignment_rule_set"))
    yield
    async with owner_session(stack.sessions) as session:
        await session.execute(text("DELETE FROM adjuster WHERE NOT adjuster_id = ANY(:ids)"), {"ids": adjusters})
        await session.execute(text("DELETE FROM assignment_rule_set WHERE version > :newest"), {"newest": newest})
        await session.commit()


async def test_every_operation_answers_as_documented(stack: Stack, assignment_kept: None) -> None:
    document = (await stack.api.get("/openapi.json")).json()
    schema = schemathesis.openapi.from_dict(document)
    cases = generated_cases(schema)
    assert {label for label, _ in cases} >= {"POST /v1/claims", "GET /v1/claims/{claim_id}"}  # the whole API is drawn
    failures: list[str] = []
    for caller, headers in CALLERS.items():
        for label, case in cases:
            request = case.as_transport_kwargs(base_url=str(stack.api.base_url), headers=headers)
            response = await stack.api.request(
                request["method"],
                request["url"],
                headers=request.get("headers"),
                params=request.get("params"),
                content=_body(request),
            )
            try:
                case.validate_response(response, checks=CHECKS)
            except BaseExceptionGroup as failed:  # schemathesis groups a case's failures in one exception
                for failure in failed.exceptions:
                    failures.append(f"{caller} {label} -> {response.status_code}: {_first_lines(failure)}")
            except AssertionError as failed:
                failures.append(f"{caller} {label} -> {response.status_code}: {_first_lines(failed)}")
    assert not failures, "\n".join(sorted(set(failures))[:40])


def _first_lines(failure: BaseException) -> str:
    return " ".join(line.strip() for line in str(failure).splitlines()[:4] if line.strip())


def _body(request: dict[str, Any]) -> bytes | None:
    if "json" in request:
        return httpx.Request("POST", "http://x", json=request["json"]).content
    data = request.get("content") or request.get("data")
    return data.encode() if isinstance(data, str) else data
