"""The dangerous window: the side effect has happened — the processor applied the submission or the payment, or
PostgreSQL committed the status change — and the worker dies, or the reply is lost, before the activity completes.
The retry (same activity, same idempotency key, same seq) must find the effect and not repeat it: one submission,
one payment, one history row and one audit row per change.

Each drill first proves it hit the window: the sandbox lists the reply as held (or counts it dropped) with its
ledger already showing the effect, or the proxy holds PostgreSQL's answer to the COMMIT with the rows already
there; then it kills or lets the retry run, and ends with assert_clean.
"""

from __future__ import annotations

import asyncio
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.api.enums.v1 import EventType

from tests.drills.conftest import Drill, proxied_url, within
from tests.drills.sandbox_holds import wait_hold
from tests.support.activity_trace import in_flight, started_types
from tests.support.drill_claims import DrillClaim, activity_attempts, assert_clean, claims, rows, settle, submit_all
from tests.support.tcp_proxy import TcpProxy

#: The activity whose reply each processor fault takes, its sandbox endpoint, and its idempotency key.
PROCESSOR_STEPS = {
    "submit": ("submit_claim", "claim-{}-submission"),
    "pay": ("issue_payment", "claim-{}-payment"),
}


async def workflow_finished(drill: Drill, claim: DrillClaim, *, timeout: float) -> None:
    """Wait for the claim's workflow to complete; if it does not, say where its history stopped."""
    handle = drill.stack.temporal.get_workflow_handle(f"claim-{claim.claim_id}")
    try:
        await asyncio.wait_for(handle.result(), timeout)
    except TimeoutError:
        events = [
            f"{event.event_time.ToDatetime():%H:%M:%S.%f} {EventType.Name(event.event_type)}"
            async for event in handle.fetch_history_events()
        ]
        raise AssertionError(f"claim {claim.claim_id} not finished after {timeout:.0f}s: {events[-10:]}") from None


def entry_of(ledger: dict[str, Any], claim: DrillClaim) -> dict[str, Any]:
    entries: list[dict[str, Any]] = [e for e in ledger["claims"] if e["claim_id"] == claim.claim_id]
    [entry] = entries
    return entry


def applied(entry: dict[str, Any], endpoint: str) -> int:
    """How many times the sandbox applied the endpoint's effect for the claim."""
    return int(entry["submissions_applied"] if endpoint == "submit" else entry["payments_applied"])


@pytest.mark.parametrize("endpoint", ["submit", "pay"])
@within(60)
async def test_applied_then_reply_dropped_the_retry_applies_nothing_twice(
    drill: Drill, sessions: async_sessionmaker[AsyncSession], endpoint: str
) -> None:
    """The processor applies the request and closes the connection without an answer (once per key); the activity
    fails, is retried with the same key, and gets the stored answer."""
    activity, _ = PROCESSOR_STEPS[endpoint]
    await drill.faults(dropped_reply_rate=1.0, endpoints=[endpoint], max_per_key=1)
    drill.start_worker()
    batch = claims(["M", "PART"])  # PART is paid after an adjuster's partial approval
    await submit_all(drill.stack.api, drill.stack.headers, batch)
    finals = await settle(drill.stack.api, drill.stack.headers, batch, timeout=50)
    ledger = await drill.ledger()
    await drill.faults()

    # Each claim's first request was applied and its reply dropped; the retry under the same key replayed it.
    assert ledger["faults_by_kind"]["dropped_reply"] == len(batch), ledger["faults_by_kind"]
    for claim in batch:
        entry = entry_of(ledger, claim)
        if endpoint == "submit":
            assert entry["submission_replays"] == 1, entry
        assert applied(entry, endpoint) == 1, entry
        assert await activity_attempts(drill.stack.temporal, claim.claim_id, activity) == [2]
    assert ledger["idempotent_replays"] == len(batch)
    await assert_clean(
        sessions=sessions, temporal=drill.stack.temporal, ledger=ledger, org=drill.org, batch=batch, finals=finals
    )


@pytest.mark.parametrize(("endpoint", "prefix"), [("submit", "M"), ("pay", "PART")])
@within(75)
async def test_applied_reply_held_worker_killed_the_next_worker_applies_nothing_twice(
    drill: Drill, sessions: async_sessionmaker[AsyncSession], endpoint: str, prefix: str
) -> None:
    """The processor applies the request and holds its answer; the worker is SIGKILLed while it waits for it. After
    the attempt's timeout a new worker retries with the same key and gets the stored answer."""
    activity, key = PROCESSOR_STEPS[endpoint]
    await drill.faults(held_reply_rate=1.0, held_reply_seconds=60, endpoints=[endpoint], max_per_key=1)
    worker = drill.start_worker()
    batch = claims([prefix])
    [claim] = batch
    api, headers = drill.stack.api, drill.stack.headers
    await submit_all(api, headers, batch)
    settled = asyncio.create_task(settle(api, headers, batch, timeout=65))  # decides the PART claim's review
    try:
        hold = await wait_hold(drill, "holding", endpoint=endpoint, idempotency_key=key.format(claim.claim_id))
        # The window: the processor has applied it (its ledger says so) and the answer has not left.
        before = entry_of(await drill.ledger(), claim)
        assert applied(before, endpoint) == 1 and hold["status_code"] == 201, (before, hold)
        await asyncio.to_thread(drill.kill, worker)
        # The kill closed the connection during the hold: no answer ever reached the dead worker.
        gone = await wait_hold(drill, "client_gone", id=hold["id"], timeout=10)
        assert gone["until"] - gone["since"] < 30, gone
        drill.start_worker()
        finals = await settled
    finally:
        settled.cancel()
    ledger = await drill.ledger()
    await drill.faults()

    entry = entry_of(ledger, claim)
    assert applied(entry, endpoint) == 1, entry
    if endpoint == "submit":
        assert entry["submission_replays"] == 1, entry
    else:
        assert finals[claim.claim_id]["payment"]["amount"] == "36.00" and entry["paid_amount"] == "36.00"
    assert ledger["faults_by_kind"]["held_reply"] == 1 and ledger["idempotent_replays"] == 1
    assert await activity_attempts(drill.stack.temporal, claim.claim_id, activity) == [2]
    await assert_clean(
        sessions=sessions, temporal=drill.stack.temporal, ledger=ledger, org=drill.org, batch=batch, finals=finals
    )


#: The status change whose transaction commits in the window, and the (local) activity that writes it.
COMMITTED = {
    "validating": "validate_and_snapshot_claim",  # with the snapshot, after the edits (the duplicate check reads it)
    "submitted": "record_status_changes",  # one change
    "closed": "record_status_changes",  # "paid" and "closed" together, with the payment row
}


@pytest.mark.parametrize("status", list(COMMITTED))
@within(75)
async def test_status_change_committed_worker_killed_before_the_activity_completed(
    drill: Drill, sessions: async_sessionmaker[AsyncSession], database_url: str, db_proxy: TcpProxy, status: str
) -> None:
    """PostgreSQL commits the transaction of a status change; its answer to the COMMIT is held at the proxy and the
    worker is SIGKILLed. A new worker runs the workflow task again, whose local activity writes the same change
    (same claim, same seq): it is found written, and nothing is written twice."""
    activity = COMMITTED[status]
    batch = claims(["M"])
    [claim] = batch
    seq = claim.scenario.path.index(status)
    # The claim is taken in and waits for a worker; then the hold is armed, and only then a worker starts.
    await submit_all(drill.stack.api, drill.stack.headers, batch)
    event_key = f"claim:{claim.claim_id}:status:{seq}"
    commit = db_proxy.hold_reply(b"COMMIT", after=event_key.encode(), seconds=60)
    via_proxy = proxied_url(database_url, db_proxy)
    worker = drill.start_worker(traced=True, CLAIMFLOW_DATABASE_URL=via_proxy)
    try:
        try:
            await asyncio.wait_for(commit.held.wait(), 45)
        except TimeoutError:
            seqs = await rows(
                sessions, "SELECT seq, status FROM claim_status_history WHERE claim_id = :cid", cid=claim.claim_id
            )
            raise AssertionError(
                f"no COMMIT after {event_key} was held (sent {commit.after_sent} times, armed: {commit.armed}); "
                f"history: {[tuple(r) for r in seqs]}; see {drill.log(worker)}"
            ) from None
        # The window: PostgreSQL has answered the COMMIT (committed), the rows are there for everyone to see...
        assert b"COMMIT" in commit.answer, commit.answer
        history = await rows(
            sessions,
            "SELECT status FROM claim_status_history WHERE claim_id = :cid AND seq = :seq",
            cid=claim.claim_id,
            seq=seq,
        )
        assert [r.status for r in history] == [status]
        audited = await rows(sessions, "SELECT 1 FROM audit_log WHERE event_key = :key", key=event_key)
        assert len(audited) == 1
        # ...and the worker has not finished the activity that wrote them; nor had it when it died.
        await asyncio.to_thread(drill.kill, worker)
        assert activity in {run.activity_type for run in in_flight(drill.log(worker))}
        sent_before = commit.after_sent
    finally:
        commit.release()
    successor = drill.start_worker(traced=True, CLAIMFLOW_DATABASE_URL=via_proxy)
    finals = await settle(drill.stack.api, drill.stack.headers, batch, timeout=60)
    # The API may show the final status from the database before the workflow is done ("closed" was committed):
    # wait for the workflow, which ends only after the successor's activity completed.
    await workflow_finished(drill, claim, timeout=40)
    # The successor wrote the change again (the same seq, found written), then went on.
    assert commit.after_sent > sent_before, (sent_before, commit.after_sent)
    assert activity in started_types(drill.log(successor))
    if status == "closed":
        payments = await rows(sessions, "SELECT amount FROM payment WHERE claim_id = :cid", cid=claim.claim_id)
        assert [p.amount for p in payments] == [Decimal("45.00")]
    await assert_clean(
        sessions=sessions,
        temporal=drill.stack.temporal,
        ledger=await drill.ledger(),
        org=drill.org,
        batch=batch,
        finals=finals,
    )
