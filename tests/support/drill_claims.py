"""Claims for fault drills: a mix of sandbox scenarios, driven to their final status, then checked for loss and doubles."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.client import Client, WorkflowExecutionStatus

from api.auth import Role
from tests.support.stack import auth
from workers.sample_claims import scenario_claim

FINAL = frozenset({"closed", "denied", "invalid", "cancelled"})
HEAD = ("received", "validating", "submitted", "pending")


@dataclass(frozen=True)
class Scenario:
    """A sandbox scenario (member id prefix), the exact status path it must take, and how review decides it."""

    prefix: str
    path: tuple[str, ...]
    paid: Decimal | None
    decision: dict[str, Any] | None = None


PAID_IN_FULL = (*HEAD, "approved", "paid", "closed")
SCENARIOS = {
    "M": Scenario("M", PAID_IN_FULL, Decimal("45.00")),
    "SLOW": Scenario("SLOW", PAID_IN_FULL, Decimal("45.00")),
    "PART": Scenario(
        "PART",
        (*HEAD, "in_review", "partially_approved", "paid", "closed"),
        Decimal("36.00"),
        {"action": "partial", "lines": [{"line_number": 1, "approved_amount": "36.00", "reason_code": "45"}]},
    ),
    "DENY": Scenario(
        "DENY", (*HEAD, "in_review", "denied"), None, {"action": "deny", "reason_code": "50", "note": "drill"}
    ),
}


@dataclass
class DrillClaim:
    scenario: Scenario
    key: str
    body: dict[str, Any]
    claim_id: str = ""
    decided: bool = False

    @property
    def expected(self) -> str:
        return self.scenario.path[-1]


def claims(mix: Iterable[str]) -> list[DrillClaim]:
    """One claim per prefix in `mix` (M, SLOW, PART, DENY), each with its own Idempotency-Key."""
    return [DrillClaim(SCENARIOS[p], f"drill-{uuid.uuid4().hex[:12]}", scenario_claim(p)) for p in mix]


async def post_claim(api: httpx.AsyncClient, headers: dict[str, str], claim: DrillClaim) -> httpx.Response:
    response = await api.post("/v1/claims", json=claim.body, headers={**headers, "Idempotency-Key": claim.key})
    if response.status_code == 202:
        claim_id: str = response.json()["claim_id"]
        assert claim.claim_id in ("", claim_id), f"the key {claim.key} named {claim.claim_id}, now {claim_id}"
        claim.claim_id = claim_id
    return response


async def submit_all(
    api: httpx.AsyncClient,
    headers: dict[str, str],
    batch: Sequence[DrillClaim],
    *,
    stagger: float = 0.0,
    timeout: float = 60.0,
) -> None:
    """POST every claim, retrying each with its own key (5xx, connection errors) until it is accepted."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    for claim in batch:
        last: object = None
        while True:
            try:
                response = await post_claim(api, headers, claim)
                if response.status_code == 202:
                    break
                assert response.status_code >= 500, response.text  # a 4xx is a bug, not a fault to ride out
                last = response.text
            except httpx.TransportError as exc:
                last = exc
            if loop.time() > deadline:
                raise AssertionError(f"claim {claim.key} was never accepted: {last}")
            await asyncio.sleep(0.3)
        if stagger:
            await asyncio.sleep(stagger)


async def settle(
    api: httpx.AsyncClient, headers: dict[str, str], batch: Sequence[DrillClaim], *, timeout: float
) -> dict[str, dict[str, Any]]:
    """Follow every claim to a final status, deciding the ones that stop in review (as their scenario says).

    Errors on the way (the API or its database down) are ridden out until `timeout`; a claim that
    ends in a final status other than its scenario's fails at once.
    """
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    done: dict[str, dict[str, Any]] = {}
    seen: dict[str, str] = {}

    async def follow(claim: DrillClaim) -> None:
        try:
            response = await api.get(f"/v1/claims/{claim.claim_id}", headers=headers)
        except httpx.TransportError as exc:
            seen[claim.claim_id] = repr(exc)
            return
        if response.status_code != 200:
            seen[claim.claim_id] = f"HTTP {response.status_code}"
            return
        body: dict[str, Any] = response.json()
        status = seen[claim.claim_id] = body["status"]
        if status in FINAL:
            assert status == claim.expected, f"{claim.scenario.prefix} claim {claim.claim_id} ended {status}: {body}"
            done[claim.claim_id] = body
        elif status == "in_review" and claim.scenario.decision and not claim.decided:
            claim.decided = await decide(api, claim, body["assigned_adjuster"])

    while True:
        # All at once: a read waits up to the API's query timeout when a claim's worker has just died.
        await asyncio.gather(*(follow(claim) for claim in batch if claim.claim_id not in done))
        if len(done) == len(batch):
            return done
        if loop.time() > deadline:
            raise AssertionError(f"not every claim finished within {timeout:.0f}s: {seen}")
        await asyncio.sleep(0.2)


async def decide(api: httpx.AsyncClient, claim: DrillClaim, adjuster: str | None) -> bool:
    """The assigned adjuster (or the supervisor) decides; True once the API took the decision."""
    who = auth(Role.ADJUSTER, sub=adjuster, org=None) if adjuster else auth(Role.SUPERVISOR, sub="carol", org=None)
    try:
        response = await api.post(f"/v1/claims/{claim.claim_id}/decision", json=claim.scenario.decision, headers=who)
    except httpx.TransportError:
        return False
    # 409: it moved meanwhile (a retried decision that did land); the next read tells.
    return response.status_code in (200, 409)


async def rows(sessions: async_sessionmaker[AsyncSession], sql: str, **params: Any) -> list[Any]:
    async with sessions() as session:
        return list((await session.execute(text(sql), params)).all())


async def assert_clean(
    *,
    sessions: async_sessionmaker[AsyncSession],
    temporal: Client,
    ledger: dict[str, Any],
    org: str,
    batch: Sequence[DrillClaim],
    finals: dict[str, dict[str, Any]],
) -> None:
    """Nothing lost, nothing done twice: the register, history, audit, snapshot, payment, ledger and workflow agree."""
    ids = [c.claim_id for c in batch]
    assert len(set(ids)) == len(ids) and all(ids), f"claims were not told apart: {ids}"

    register = {r.claim_id: r for r in await rows(sessions, "SELECT * FROM claim WHERE org_id = :org", org=org)}
    assert set(register) == set(ids), f"claims lost or made up: {set(register) ^ set(ids)}"
    keys = Counter(r.idempotency_key for r in register.values())
    assert all(n == 1 for n in keys.values()) and set(keys) == {c.key for c in batch}

    history: dict[str, list[tuple[int, str]]] = {i: [] for i in ids}
    for r in await rows(
        sessions,
        "SELECT claim_id, seq, status FROM claim_status_history WHERE claim_id = ANY(:ids) ORDER BY seq",
        ids=ids,
    ):
        history[r.claim_id].append((r.seq, r.status))
    audit = Counter(
        r.claim_id
        for r in await rows(
            sessions,
            "SELECT claim_id FROM audit_log WHERE claim_id = ANY(:ids) AND action = 'claim.status_changed'",
            ids=ids,
        )
    )
    snapshot = await snapshot_counts(sessions, ids)
    payments: dict[str, list[Any]] = {i: [] for i in ids}
    for r in await rows(
        sessions, "SELECT claim_id, payment_id, amount FROM payment WHERE claim_id = ANY(:ids)", ids=ids
    ):
        payments[r.claim_id].append(r)

    for claim in batch:
        cid, path = claim.claim_id, claim.scenario.path
        what = f"{claim.scenario.prefix} claim {cid}"
        final = finals[cid]
        assert tuple(h["status"] for h in final["status_history"]) == path, f"{what}: {final['status_history']}"
        assert [seq for seq, _ in history[cid]] == list(range(len(path))), f"{what} history seqs: {history[cid]}"
        assert tuple(status for _, status in history[cid]) == path, f"{what} history: {history[cid]}"
        assert register[cid].status == claim.expected and register[cid].status_seq == len(path) - 1
        assert audit[cid] == len(path) - 1, f"{what}: {audit[cid]} status audit entries for {len(path) - 1} changes"
        assert snapshot[cid] == (1, len(claim.body["lines"]), 1, len(claim.body["bill_ids"])), (
            f"{what}: {snapshot[cid]}"
        )

        entries = [e for e in ledger["claims"] if e["claim_id"] == cid]
        assert len(entries) == 1, f"{what} reached the processor as {len(entries)} claims: {entries}"
        [entry] = entries
        assert entry["submissions_applied"] == 1, f"{what}: {entry}"
        assert entry["idempotency_key"] == f"claim-{cid}-submission"
        if claim.scenario.paid is None:
            assert entry["payments_applied"] == 0 and payments[cid] == [], f"{what} was paid: {entry}"
        else:
            assert entry["payments_applied"] == 1, f"{what}: {entry}"
            assert Decimal(entry["paid_amount"]) == claim.scenario.paid
            [payment] = payments[cid]
            assert payment.amount == claim.scenario.paid and final["payment"]["payment_id"] == payment.payment_id

    await assert_one_finished_workflow(temporal, ids)


async def snapshot_counts(
    sessions: async_sessionmaker[AsyncSession], ids: Sequence[str]
) -> dict[str, tuple[int, int, int, int]]:
    """Per claim: rows in insurance_claim, claim_test_relation, claim_provider_info, bill_claim_relation."""
    counts: dict[str, list[int]] = {i: [0, 0, 0, 0] for i in ids}
    for n, table in enumerate(("insurance_claim", "claim_test_relation", "claim_provider_info", "bill_claim_relation")):
        for r in await rows(
            sessions,
            f"SELECT claim_id, count(*) AS n FROM {table} WHERE claim_id = ANY(:ids) GROUP BY claim_id",
            ids=list(ids),
        ):
            counts[r.claim_id][n] = r.n
    return {i: (c[0], c[1], c[2], c[3]) for i, c in counts.items()}


async def assert_one_finished_workflow(temporal: Client, ids: Sequence[str], timeout: float = 30) -> None:
    """Each claim ran as exactly one workflow execution, and it completed."""
    for cid in ids:
        handle = temporal.get_workflow_handle(f"claim-{cid}")
        await asyncio.wait_for(handle.result(), timeout)
        assert (await handle.describe()).status is WorkflowExecutionStatus.COMPLETED
        runs = [w async for w in temporal.list_workflows(f'WorkflowId = "claim-{cid}"')]
        assert len(runs) == 1, f"claim {cid} ran as {len(runs)} workflow executions"


async def activity_attempts(temporal: Client, claim_id: str, activity_type: str) -> list[int]:
    """The attempt on which each `activity_type` activity of the claim's workflow finally ran (from its history):
    a regular activity's started event, or a local activity's marker (its `data` detail carries the attempt)."""
    scheduled: dict[int, str] = {}
    attempts = []
    async for event in temporal.get_workflow_handle(f"claim-{claim_id}").fetch_history_events():
        if event.HasField("activity_task_scheduled_event_attributes"):
            scheduled[event.event_id] = event.activity_task_scheduled_event_attributes.activity_type.name
        elif event.HasField("activity_task_started_event_attributes"):
            started = event.activity_task_started_event_attributes
            if scheduled.get(started.scheduled_event_id) == activity_type:
                attempts.append(started.attempt)
        elif event.HasField("marker_recorded_event_attributes"):
            marker = event.marker_recorded_event_attributes
            if marker.marker_name == "core_local_activity":
                data = json.loads(marker.details["data"].payloads[0].data)
                if data["activity_type"] == activity_type:
                    attempts.append(int(data["attempt"]))
    return attempts
