"""The admin API for adjusters and assignment rules over the real stack: CRUD, admins only, field-named 422s, audit
entries with values before and after, and a new rules version deciding the next claim, shown on it as rule@version.

Adjusters made here serve only this module's organizations, and the rules versions made here are removed
afterwards, so other modules' claims are assigned as before."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from api.auth import Role
from tests.api.test_claim_lifecycle import member
from tests.support.database import owner_session
from tests.support.stack import Stack, auth

ADMIN = auth(Role.ADMIN, sub="root", org=None)


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


@pytest.fixture
async def scratch(sessions: async_sessionmaker[AsyncSession]) -> AsyncIterator[list[str]]:
    """Adjuster ids a test adds; afterwards they and every rules version above the seeded one are removed."""
    added: list[str] = []
    yield added
    async with owner_session(sessions) as session:
        await session.execute(text("DELETE FROM adjuster WHERE adjuster_id = ANY(:ids)"), {"ids": added})
        await session.execute(text("DELETE FROM assignment_rule_set WHERE version > 1"))
        await session.commit()


async def add_adjuster(stack: Stack, scratch: list[str], **fields: Any) -> dict[str, Any]:
    body = {"adjuster_id": unique("adj"), "name": "Test Adjuster", "authority_limit": "2500.00", **fields}
    response = await stack.api.post("/v1/adjusters", json=body, headers=ADMIN)
    assert response.status_code == 201, response.text
    scratch.append(body["adjuster_id"])
    created: dict[str, Any] = response.json()
    return created


async def audit_rows(sessions: async_sessionmaker[AsyncSession], action_like: str, key: str, value: str) -> list[Any]:
    async with sessions() as session:
        return list(
            (
                await session.execute(
                    text(
                        "SELECT action, actor, details FROM audit_log WHERE action LIKE :action "
                        "AND details->>:key = :value ORDER BY id"
                    ),
                    {"action": action_like, "key": key, "value": value},
                )
            ).all()
        )


@pytest.mark.parametrize("role", [Role.SUBMITTER, Role.ADJUSTER, Role.SUPERVISOR])
async def test_only_admins_may_read_or_change_adjusters_and_rules(stack: Stack, role: Role) -> None:
    headers = auth(role, sub="carol", org="org-test" if role is Role.SUBMITTER else None)
    calls = [
        stack.api.get("/v1/adjusters", headers=headers),
        stack.api.post(
            "/v1/adjusters", json={"adjuster_id": "x", "name": "X", "authority_limit": "1"}, headers=headers
        ),
        stack.api.get("/v1/adjusters/alice", headers=headers),
        stack.api.patch("/v1/adjusters/alice", json={"capacity": 1}, headers=headers),
        stack.api.get("/v1/assignment-rules", headers=headers),
        stack.api.put("/v1/assignment-rules", json={"rules": [{"rule_id": "x"}]}, headers=headers),
        stack.api.get("/v1/assignment-rules/versions/1", headers=headers),
    ]
    for call in calls:
        response = await call
        assert response.status_code == 403, (response.request.method, response.request.url, response.text)
        assert response.json()["code"] == "forbidden"
    alice = await stack.api.get("/v1/adjusters/alice", headers=ADMIN)
    assert alice.json()["capacity"] == 25  # the refused change changed nothing


async def test_an_admin_adds_reads_lists_and_changes_an_adjuster(stack: Stack, scratch: list[str]) -> None:
    created = await add_adjuster(
        stack,
        scratch,
        payer_ids=["sandbox"],
        claim_kinds=["replacement", "void"],
        org_ids=[unique("org")],
        team="t1",
        email="reviewer@example.com",
    )
    adjuster_id = created["adjuster_id"]
    assert created | {"org_ids": []} == {
        "adjuster_id": adjuster_id,
        "name": "Test Adjuster",
        "payer_ids": ["SANDBOX"],
        "claim_kinds": ["replacement", "void"],
        "org_ids": [],
        "authority_limit": "2500.00",
        "capacity": 25,
        "status": "active",
        "supervisor": False,
        "team": "t1",
        "email": "reviewer@example.com",
        "handover": None,  # only a change of status hands claims over
    }
    assert (await stack.api.get(f"/v1/adjusters/{adjuster_id}", headers=ADMIN)).json() == created
    listed = (await stack.api.get("/v1/adjusters", headers=ADMIN)).json()["data"]
    assert {"alice", "bob", "carol", adjuster_id} <= {a["adjuster_id"] for a in listed}

    patched = await stack.api.patch(
        f"/v1/adjusters/{adjuster_id}",
        json={"status": "away", "capacity": 5, "team": None, "supervisor": True, "email": None},
        headers=ADMIN,
    )
    assert patched.status_code == 200, patched.text
    assert patched.json()["handover"] == {"reassigned": {}, "not_reassigned": {}}  # away, with no open claim
    assert (await stack.api.get(f"/v1/adjusters/{adjuster_id}", headers=ADMIN)).json() == patched.json() | {
        "handover": None
    }
    assert {k: patched.json()[k] for k in ("status", "capacity", "team", "supervisor", "email", "authority_limit")} == {
        "status": "away",
        "capacity": 5,
        "team": None,
        "supervisor": True,
        "email": None,
        "authority_limit": "2500.00",
    }

    again = await stack.api.post(
        "/v1/adjusters", json={"adjuster_id": adjuster_id, "name": "Dup", "authority_limit": "1"}, headers=ADMIN
    )
    assert again.status_code == 409 and again.json()["code"] == "adjuster_exists"
    for missing in (
        await stack.api.get("/v1/adjusters/nobody-here", headers=ADMIN),
        await stack.api.patch("/v1/adjusters/nobody-here", json={"capacity": 3}, headers=ADMIN),
    ):
        assert missing.status_code == 404, missing.text


@pytest.mark.parametrize(
    ("method", "body", "path"),
    [
        ("post", {"capacity": 0}, "capacity"),
        ("post", {"payer_ids": ["NOSUCHPAYER"]}, "payer_ids[0]"),
        ("post", {"claim_kinds": ["original", "resubmission"]}, "claim_kinds[1]"),
        ("post", {"status": "retired"}, "status"),
        ("post", {"authority_limit": "-1.00"}, "authority_limit"),
        ("post", {"nickname": "Al"}, "nickname"),
        ("post", {"email": "not-an-address"}, "email"),
        ("patch", {"name": None}, "name"),
        ("patch", {"capacity": None}, "capacity"),
        ("patch", {"payer_ids": ["SANDBOX", "NOSUCHPAYER"]}, "payer_ids[1]"),
        ("patch", {"capacity": 10_001}, "capacity"),
    ],
)
async def test_bad_adjuster_input_is_422_naming_the_field(
    stack: Stack, method: str, body: dict[str, Any], path: str
) -> None:
    if method == "post":
        full = {"adjuster_id": unique("bad"), "name": "Bad", "authority_limit": "10.00", **body}
        response = await stack.api.post("/v1/adjusters", json=full, headers=ADMIN)
    else:
        response = await stack.api.patch("/v1/adjusters/alice", json=body, headers=ADMIN)
    assert response.status_code == 422, response.text
    assert path in [error["path"] for error in response.json()["errors"]], response.json()
    assert (await stack.api.get("/v1/adjusters/alice", headers=ADMIN)).json()["payer_ids"] == []  # alice unchanged


async def test_adjuster_changes_are_audited_with_the_fields_before_and_after(
    stack: Stack, sessions: async_sessionmaker[AsyncSession], scratch: list[str]
) -> None:
    created = await add_adjuster(stack, scratch, org_ids=[unique("org")])
    adjuster_id = created["adjuster_id"]
    patched = await stack.api.patch(
        f"/v1/adjusters/{adjuster_id}", json={"status": "away", "capacity": 7, "name": "Test Adjuster"}, headers=ADMIN
    )
    assert patched.status_code == 200, patched.text

    rows = await audit_rows(sessions, "adjuster.%", "adjuster_id", adjuster_id)
    assert [(action, actor) for action, actor, _ in rows] == [
        ("adjuster.created", "admin:root"),
        ("adjuster.updated", "admin:root"),
    ]
    assert rows[0].details["after"]["capacity"] == 25 and rows[0].details["after"]["status"] == "active"
    assert rows[1].details["fields"] == ["capacity", "status"]  # the name was sent unchanged
    assert rows[1].details["before"] == {"capacity": 25, "status": "active"}
    assert rows[1].details["after"] == {"capacity": 7, "status": "away"}


async def test_rules_are_replaced_as_a_new_version_and_old_versions_stay_readable(
    stack: Stack, sessions: async_sessionmaker[AsyncSession], scratch: list[str]
) -> None:
    current = (await stack.api.get("/v1/assignment-rules", headers=ADMIN)).json()
    assert current["version"] == 1 and current["set_by"] == "seed"
    assert [rule["rule_id"] for rule in current["rules"]] == ["default"]

    rules = [
        {"rule_id": "big", "match": {"min_amount": "5000.00"}, "require_supervisor": True},
        {"rule_id": "default"},
    ]
    put = await stack.api.put("/v1/assignment-rules", json={"rules": rules}, headers=ADMIN)
    assert put.status_code == 200, put.text
    assert (put.json()["version"], put.json()["set_by"]) == (2, "admin:root")
    assert put.json()["rules"][0]["match"]["min_amount"] == "5000.00"
    assert (await stack.api.get("/v1/assignment-rules", headers=ADMIN)).json() == put.json()
    assert (await stack.api.get("/v1/assignment-rules/versions/1", headers=ADMIN)).json() == current
    assert (await stack.api.get("/v1/assignment-rules/versions/2", headers=ADMIN)).json() == put.json()
    assert (await stack.api.get("/v1/assignment-rules/versions/99", headers=ADMIN)).status_code == 404

    [(action, actor, details)] = await audit_rows(sessions, "assignment_rules.%", "version", "2")
    assert (action, actor) == ("assignment_rules.set", "admin:root")
    assert [rule["rule_id"] for rule in details["rules"]] == ["big", "default"]


@pytest.mark.parametrize(
    ("rules", "path"),
    [
        ([{"rule_id": "a"}, {"rule_id": "a"}], "rules[1].rule_id"),
        ([{"rule_id": "a", "match": {"min_amount": "10.00", "max_amount": "10.00"}}], "rules[0].match"),
        ([{"rule_id": "a", "match": {"payer_ids": ["NOSUCHPAYER"]}}], "rules[0].match.payer_ids[0]"),
        ([{"rule_id": "Not An Id"}], "rules[0].rule_id"),
        ([{"rule_id": "a", "match": {"claim_kinds": ["other"]}}], "rules[0].match.claim_kinds[0]"),
        ([{"rule_id": "a", "then": "x"}], "rules[0].then"),
        ([], "rules"),
    ],
)
async def test_bad_rules_are_422_naming_the_field_and_make_no_version(
    stack: Stack, rules: list[dict[str, Any]], path: str
) -> None:
    response = await stack.api.put("/v1/assignment-rules", json={"rules": rules}, headers=ADMIN)
    assert response.status_code == 422, response.text
    assert path in [error["path"] for error in response.json()["errors"]], response.json()
    assert (await stack.api.get("/v1/assignment-rules", headers=ADMIN)).json()["version"] == 1


async def test_a_new_rules_version_decides_the_next_claim_and_the_claim_shows_rule_and_version(
    stack: Stack, scratch: list[str]
) -> None:
    org, team = unique("org-rules"), unique("team")
    newcomer = await add_adjuster(stack, scratch, org_ids=[org], team=team)
    rules = [{"rule_id": "org-team", "match": {"org_ids": [org]}, "team": team}, {"rule_id": "default"}]
    put = await stack.api.put("/v1/assignment-rules", json={"rules": rules}, headers=ADMIN)
    assert put.status_code == 200, put.text
    version = put.json()["version"]

    submitter = auth(Role.SUBMITTER, org=org)
    response = await stack.api.post("/v1/claims", json=member("DENY"), headers=submitter)
    assert response.status_code == 202, response.text
    claim = await stack.wait_for(response.json()["claim_id"], "in_review", headers=submitter)
    assert claim["assigned_adjuster"] == newcomer["adjuster_id"]
    assert claim["assignment_rule"] == f"org-team@v{version}"
    assert claim["status_history"][-1]["reason"].endswith(
        f"assigned to {newcomer['adjuster_id']} by rule org-team@v{version}"
    )

    elsewhere = await stack.wait_for(await stack.submit(member("DENY")), "in_review")
    assert elsewhere["assigned_adjuster"] in {"alice", "bob"}
    assert elsewhere["assignment_rule"] == f"default@v{version}"
