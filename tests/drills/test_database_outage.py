"""PostgreSQL unreachable for 20 s in the middle of a run: activities retry, no snapshot is half-written,
a claim posted during the outage is taken on retry, and every claim completes once."""

from __future__ import annotations

import asyncio
import contextlib
import uuid

import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.client import Client

from db.engine import create_engine, create_session_factory
from tests.drills.conftest import Drill, proxied_url, served_api, within
from tests.support.activity_trace import in_flight
from tests.support.drill_claims import (
    activity_attempts,
    assert_clean,
    claims,
    post_claim,
    settle,
    snapshot_counts,
    submit_all,
)
from tests.support.stack import auth, free_port
from tests.support.tcp_proxy import TcpProxy

OUTAGE_SECONDS = 20


@within(150)
async def test_database_unreachable_for_20s_mid_run(
    drill: Drill, sessions: async_sessionmaker[AsyncSession], database_url: str, db_proxy: TcpProxy
) -> None:
    # The worker and the API reach PostgreSQL only through the proxy; the checks below go around it.
    via_proxy = proxied_url(database_url, db_proxy)
    port = free_port()
    worker = drill.start_worker(traced=True, CLAIMFLOW_DATABASE_URL=via_proxy)
    await drill.serve_api(port, CLAIMFLOW_DATABASE_URL=via_proxy)
    headers = drill.stack.headers
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=30) as api:
        db_proxy.delay = 0.01  # every round trip a little longer: more transactions are open at the cut
        batch = claims(["M", "PART", "DENY", "M", "M", "M", "PART", "DENY"])
        await submit_all(api, headers, batch[:4], stagger=0.3)
        # Cut the link right after the next snapshot's first row went to PostgreSQL, inside its transaction.
        cut_done = asyncio.Event()
        interrupted: set[str] = set()
        inserts: list[bytes] = []

        async def cut_inside_the_snapshot() -> None:
            await asyncio.sleep(0.02)  # PostgreSQL has the row; the transaction is still open
            interrupted.update(run.activity_type for run in in_flight(drill.log(worker)))
            await db_proxy.cut()
            cut_done.set()

        def watch(chunk: bytes) -> None:
            if b"INSERT INTO insurance_claim" in chunk and not inserts:
                inserts.append(chunk)
                tasks.add(asyncio.get_running_loop().create_task(cut_inside_the_snapshot()))

        tasks: set[asyncio.Task[None]] = set()
        db_proxy.watch = watch
        with contextlib.suppress(httpx.TransportError):  # if the cut lands in this POST, it is retried below
            await post_claim(api, headers, batch[4])
        await asyncio.wait_for(cut_done.wait(), 30)
        cut_at = asyncio.get_running_loop().time()
        db_proxy.watch, db_proxy.delay = None, 0.0

        # The API stays up but is not ready, and a claim posted now is refused, not half-taken.
        async with httpx.AsyncClient(base_url=api.base_url, timeout=30) as fresh:  # no connection the cut broke
            assert (await fresh.get("/readyz")).status_code == 503
            refused = await post_claim(fresh, headers, batch[5])
        assert refused.status_code >= 500, refused.text
        await asyncio.sleep(OUTAGE_SECONDS - (asyncio.get_running_loop().time() - cut_at))
        await db_proxy.restore()

        # Straight after the outage: no claim has a snapshot header without all of its rows.
        ids = [c.claim_id for c in batch if c.claim_id]
        for claim_id, counts in (await snapshot_counts(sessions, ids)).items():
            assert counts[0] == 0 or all(counts), f"half-written snapshot of {claim_id}: {counts}"
        await submit_all(api, headers, batch[4:])  # the refused ones retried under their keys
        finals = await settle(api, headers, batch, timeout=90)
    [cut_claim] = [c for c in batch if c.claim_id.encode() in inserts[0]]
    # validate_and_snapshot_claim writes the snapshot (with the claim's "validating" status change) in its transaction.
    assert "validate_and_snapshot_claim" in interrupted, f"the cut interrupted only {interrupted}"
    # The snapshot the cut broke into failed and was retried; its claim is whole all the same (assert_clean).
    [attempt] = await activity_attempts(drill.stack.temporal, cut_claim.claim_id, "validate_and_snapshot_claim")
    assert attempt > 1, f"the snapshot of {cut_claim.claim_id} was not interrupted"
    await assert_clean(
        sessions=sessions,
        temporal=drill.stack.temporal,
        ledger=await drill.ledger(),
        org=drill.org,
        batch=batch,
        finals=finals,
    )


@within(60)
async def test_api_answers_503_problem_json_while_the_database_is_down(
    temporal: Client, database_url: str, db_proxy: TcpProxy
) -> None:
    """README: "Errors are problem JSON"; a database outage is temporary, so 503 tells a client to retry."""
    engine = create_engine(proxied_url(database_url, db_proxy))
    [claim] = claims(["M"])
    try:
        async with served_api(temporal, create_session_factory(engine)) as api:
            await db_proxy.cut()
            response = await post_claim(api, auth(org=f"drill-{uuid.uuid4().hex[:8]}"), claim)
    finally:
        await engine.dispose()
    assert response.headers["content-type"].startswith("application/problem+json"), (
        f"HTTP {response.status_code} {response.headers['content-type']}: {response.text!r}"
    )
    assert response.status_code == 503, response.text
