"""Queues over the API on the real stack: adjusters work their own queue while a supervisor watches every queue.

The module's stack runs claims under a 3-second review SLA without escalation, so a claim left in review
breaches its SLA for real while the test watches. The database is shared with other modules: workload counts
are compared before and after, and queue items are filtered to this module's claims.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.client import Client

from api.auth import Role
from tests.api.test_claim_lifecycle import member
from tests.support.stack import FAST_POLICY, Stack, auth, running_stack

SLA = timedelta(seconds=3)
CAROL = auth(Role.SUPERVISOR, sub="carol", org=None)


@pytest.fixture(scope="module")
async def stack(temporal: Client, sessions: async_sessionmaker[AsyncSession], sandbox_url: str) -> AsyncIterator[Stack]:
    policy = FAST_POLICY.model_copy(update={"review_sla": SLA, "max_escalations": 0})
    async with running_stack(temporal, sessions, sandbox_url, policy=policy) as running:
        yield running


def adjuster(sub: str) -> dict[str, str]:
    return auth(Role.ADJUSTER, sub=sub, org=None)


async def whole_queue(stack: Stack, headers: dict[str, str], *, limit: int = 200) -> list[dict[str, Any]]:
    """Every item of the caller's queue, page after page."""
    items: list[dict[str, Any]] = []
    cursor: str | None = None
    while True:
        params: dict[str, Any] = {"limit": limit} | ({"cursor": cursor} if cursor else {})
        response = await stack.api.get("/v1/queues/mine", params=params, headers=headers)
        assert response.status_code == 200, response.text
        page = response.json()
        items += page["data"]
        cursor = page["next_cursor"]
        if cursor is None:
            return items


async def workloads(stack: Stack) -> dict[str, dict[str, Any]]:
    response = await stack.api.get("/v1/queues", params={"limit": 200}, headers=CAROL)
    assert response.status_code == 200, response.text
    return {row["adjuster_id"]: row for row in response.json()["adjusters"]}


async def in_review(stack: Stack, count: int) -> list[dict[str, Any]]:
    claim_ids = [await stack.submit(member("DENY")) for _ in range(count)]
    return [await stack.wait_for(claim_id, "in_review") for claim_id in claim_ids]


async def test_an_adjuster_sees_their_claims_by_priority_and_pages_through_them(stack: Stack) -> None:
    claims = await in_review(stack, 3)
    mine = {claim["claim_id"]: claim for claim in claims}
    by_adjuster: dict[str, set[str]] = {}
    for claim in claims:
        by_adjuster.setdefault(claim["assigned_adjuster"], set()).add(claim["claim_id"])
    for sub, claim_ids in by_adjuster.items():
        items = await whole_queue(stack, adjuster(sub), limit=1)  # one per page: every cursor is used
        assert claim_ids <= {item["claim_id"] for item in items}
        assert len({item["claim_id"] for item in items}) == len(items)  # no claim twice across pages
        keys = [(("urgent", "high", "normal", "low").index(i["priority"]), i["review_due_at"] or "~") for i in items]
        assert keys == sorted(keys)
        for item in items:
            if item["claim_id"] in claim_ids:
                assert item["status"] == "in_review" and item["total_charge"] == mine[item["claim_id"]]["total_charge"]
                assert item["review_due_at"] is not None
        others = set(mine) - claim_ids
        assert not others & {item["claim_id"] for item in items}  # nobody else's claims


async def test_a_supervisor_watches_the_queues_while_an_adjuster_works_them(stack: Stack) -> None:
    """Counts move as claims enter review, one is asked for information and one decided; a claim left alone
    breaches its 3-second SLA and shows as a breach and as urgent in its adjuster's queue."""
    before = await workloads(stack)
    claims = await in_review(stack, 3)
    after = await workloads(stack)
    assigned = [claim["assigned_adjuster"] for claim in claims]
    for sub in set(assigned):
        assert after[sub]["in_review"] - before[sub]["in_review"] == assigned.count(sub)
    first, second, third = claims
    asked = await stack.api.post(
        f"/v1/claims/{first['claim_id']}/decision",
        json={"action": "request_info", "note": "send the requisition"},
        headers=adjuster(first["assigned_adjuster"]),
    )
    assert asked.status_code == 200, asked.text
    denied = await stack.api.post(
        f"/v1/claims/{second['claim_id']}/decision",
        json={"action": "deny", "reason_code": "50"},
        headers=adjuster(second["assigned_adjuster"]),
    )
    assert denied.status_code == 200, denied.text
    await asyncio.sleep(SLA.total_seconds() + 0.5)
    watched = await workloads(stack)
    for sub in set(assigned):
        expected_review = sum(1 for c in (third,) if c["assigned_adjuster"] == sub)
        expected_info = sum(1 for c in (first,) if c["assigned_adjuster"] == sub)
        assert watched[sub]["in_review"] - before[sub]["in_review"] == expected_review
        assert watched[sub]["info_requested"] - before[sub]["info_requested"] == expected_info
    owner = third["assigned_adjuster"]
    assert watched[owner]["breaches"] >= 1 and watched[owner]["next_due_at"] is not None
    [item] = [i for i in await whole_queue(stack, adjuster(owner)) if i["claim_id"] == third["claim_id"]]
    assert (item["sla_breached"], item["priority"]) == (True, "urgent")
    claim = await stack.read(third["claim_id"], headers=adjuster(owner))
    assert claim["priority"] == "urgent"


async def test_the_overview_has_teams_unassigned_and_pages_adjusters(stack: Stack) -> None:
    response = await stack.api.get("/v1/queues", params={"limit": 1}, headers=CAROL)
    assert response.status_code == 200, response.text
    page = response.json()
    assert [team["team"] for team in page["teams"]] == ["review"]  # carol's team only
    assert len(page["adjusters"]) == 1 and page["next_cursor"]
    assert set(page["unassigned"]) >= {"in_review", "info_requested", "breaches"}
    rest = await stack.api.get("/v1/queues", params={"limit": 200, "cursor": page["next_cursor"]}, headers=CAROL)
    first, others = page["adjusters"][0]["adjuster_id"], [a["adjuster_id"] for a in rest.json()["adjusters"]]
    assert others and all(other > first for other in others)


@pytest.mark.parametrize(
    ("path", "headers", "status"),
    [
        ("/v1/queues", auth(Role.ADJUSTER, sub="alice", org=None), 403),
        ("/v1/queues", auth(Role.SUBMITTER), 403),
        ("/v1/queues/mine", auth(Role.SUBMITTER), 403),
        ("/v1/queues?cursor=not-a-cursor", CAROL, 400),
        ("/v1/queues/mine?cursor=not-a-cursor", auth(Role.ADJUSTER, sub="alice", org=None), 400),
    ],
)
async def test_queues_refuse_roles_and_bad_cursors(
    stack: Stack, path: str, headers: dict[str, str], status: int
) -> None:
    response = await stack.api.get(path, headers=headers)
    assert response.status_code == status, response.text
