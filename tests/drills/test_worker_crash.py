"""kill -9 a worker mid-claim: the claim still completes, submitted once and paid once."""

from __future__ import annotations

from tests.api.test_claim_lifecycle import member
from tests.drills.conftest import Drill
from tests.drills.sandbox_holds import hold_now, wait_hold


async def test_worker_killed_while_a_status_request_is_in_flight(drill: Drill) -> None:
    worker = drill.start_worker()
    claim_id = await drill.stack.submit(member("SLOW"))
    await drill.stack.wait_for(claim_id, "pending")
    # Hold every status request for 3 s before it is handled, wait until the sandbox is holding one, then kill
    # the worker under it; the request still held after the kill proves the kill landed mid-request.
    await drill.faults(slow_rate=1.0, slow_seconds=3.0, endpoints=["status"])
    hold = await wait_hold(drill, "holding", fault="slow", endpoint="status")
    drill.kill(worker)
    assert (await hold_now(drill, hold["id"]))["state"] == "holding", "the status request ended before the kill"
    await drill.faults()  # the processor recovers
    drill.start_worker()
    claim = await drill.stack.wait_for(claim_id, "closed", timeout=90)
    assert claim["payment"]["amount"] == "45.00"
    [entry] = [e for e in (await drill.ledger())["claims"] if e["claim_id"] == claim_id]
    assert entry["submissions_applied"] == 1
    assert entry["payments_applied"] == 1


async def test_submission_reply_lost_then_worker_killed_submits_once(drill: Drill) -> None:
    """The processor applies the submission but the reply is lost; the worker dies; a new one retries safely."""
    await drill.faults(lost_reply_rate=1.0)
    worker = drill.start_worker()
    claim_id = await drill.stack.submit(member("M"))
    await drill.wait_ledger(lambda ledger: any(c["claim_id"] == claim_id for c in ledger["claims"]))
    drill.kill(worker)
    await drill.faults()
    drill.start_worker()
    claim = await drill.stack.wait_for(claim_id, "closed", timeout=90)
    assert [s["status"] for s in claim["status_history"]].count("submitted") == 1
    [entry] = [e for e in (await drill.ledger())["claims"] if e["claim_id"] == claim_id]
    assert entry["submissions_applied"] == 1
    assert entry["payments_applied"] == 1
