"""kill -9 a worker in the middle of every kind of activity, across a batch of claims, with two workers
running: the other worker (and the replacements) finish every claim, submitted once and paid once.

Processor calls are held in flight by the sandbox's slow fault and database steps by a delaying proxy in
front of PostgreSQL. The workers trace each activity they start and finish (tests.support.activity_trace);
whenever one of them is in the middle of a kind of activity no kill has interrupted yet, it is killed, and
its trace, read after its death, says what it was doing: that, not the intent, is what a kill counts for.
"""

from __future__ import annotations

import asyncio
import subprocess
import time
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tests.drills.conftest import Drill, proxied_url, within
from tests.support.activity_trace import in_flight
from tests.support.drill_claims import assert_clean, claims, settle, submit_all
from tests.support.tcp_proxy import TcpProxy

ACTIVITY_TYPES = frozenset(
    {
        # Local activities run inside a workflow task (a kill leaves the task to time out, 10 s); regular ones
        # are left to their start-to-close timeout (15 s). The trace sees both kinds alike.
        "validate_and_snapshot_claim",  # with the claim's snapshot and its "validating" status change
        "resolve_integration",  # the claim's integration (the dev default provisioned on an organization's first claim)
        "poll_claim_status",
        "record_status_changes",
        "submit_claim",
        "assign_adjuster",
        "issue_payment",
    }
)
#: An activity counts as interrupted "in the middle" if it had been running at least this long when killed.
IN_THE_MIDDLE = 0.05
#: Every processor call takes 0.7 s; each database step waits on its own statement (and 10 ms a round trip).
PROCESSOR_SLOW = 0.7
DB_DELAY = 0.01
FEED_INTERVAL = 1.0  # a new claim this often
DB_HOLDS = {
    b"SELECT claim_test_relation.procedure_code": 0.5,  # validate_and_snapshot_claim's duplicate check
    b"INSERT INTO insurance_claim": 0.5,  # validate_and_snapshot_claim's snapshot
    b"INSERT INTO claim_status_history": 0.3,  # record_status_changes (and validate_and_snapshot_claim)
    b"FROM adjuster ORDER BY": 0.8,  # assign_adjuster
}


@within(180)
async def test_worker_killed_in_the_middle_of_every_activity_type(
    drill: Drill, sessions: async_sessionmaker[AsyncSession], database_url: str, db_proxy: TcpProxy
) -> None:
    via_proxy = proxied_url(database_url, db_proxy)
    db_proxy.delay, db_proxy.holds = DB_DELAY, DB_HOLDS
    await drill.faults(slow_rate=1.0, slow_seconds=PROCESSOR_SLOW)

    def start_worker() -> subprocess.Popen[bytes]:
        return drill.start_worker(traced=True, CLAIMFLOW_DATABASE_URL=via_proxy)

    def running(worker: subprocess.Popen[bytes], at: float) -> set[str]:
        """What the worker had been running for a while at `at` and not finished, by its own trace."""
        return {r.activity_type for r in in_flight(drill.log(worker)) if r.started_at <= at - IN_THE_MIDDLE}

    async def kill(worker: subprocess.Popen[bytes]) -> set[str]:
        at = time.time()
        await asyncio.to_thread(drill.kill, worker)
        return running(worker, at)  # read after its death: what the kill really interrupted

    workers = [start_worker(), start_worker()]
    await drill.polling(*workers)
    api, headers = drill.stack.api, drill.stack.headers
    batch = claims(["M", "PART", "DENY", "M", "M", "PART", "DENY", "M", "PART", "M"])

    async def feed_then_settle() -> dict[str, dict[str, Any]]:
        """Claims keep arriving (so early and late steps run at the same time), then all are followed to the end."""
        for claim in batch:
            await submit_all(api, headers, [claim])
            await asyncio.sleep(FEED_INTERVAL)
        return await settle(api, headers, batch, timeout=150)

    settled = asyncio.create_task(feed_then_settle())

    # Each kill stalls what it hits for a timeout (10-15 s), so the drill kills seldom and where
    # it hits much: the worker in the middle of the most kinds no kill has interrupted yet, when that is
    # several kinds (fewer as time passes without a kill); a fresh worker replaces it at once. When one
    # worker runs every kind still missing, it is killed and not replaced: the other finishes everything.
    kills: list[set[str]] = []
    loop = asyncio.get_running_loop()
    deadline = last_kill = loop.time()
    deadline += 90
    try:
        # Only the kinds listed count: a kill may also interrupt one the drill's claims do not all run.
        while (covered := set().union(*kills) & ACTIVITY_TYPES) != ACTIVITY_TYPES:
            assert not settled.done(), f"every claim finished before a kill hit {ACTIVITY_TYPES - covered}: {kills}"
            assert loop.time() < deadline, f"no kill hit {ACTIVITY_TYPES - covered}: {kills}"
            now = time.time()
            doing = {worker: running(worker, now) & ACTIVITY_TYPES for worker in workers}
            target = max(workers, key=lambda w: len(doing[w] - covered))
            finishing = covered | doing[target] == ACTIVITY_TYPES
            if finishing or len(doing[target] - covered) >= max(1, 4 - int((loop.time() - last_kill) / 2.5)):
                kills.append(await kill(target))
                workers.remove(target)
                last_kill = loop.time()
                if set().union(*kills) & ACTIVITY_TYPES != ACTIVITY_TYPES:
                    workers.append(start_worker())
            await asyncio.sleep(0.05)
        assert len(workers) == 1
        await drill.faults()
        db_proxy.delay, db_proxy.holds = 0.0, {}
        finals = await settled
    finally:
        settled.cancel()
    print(f"kills interrupted: {kills}")

    await assert_clean(
        sessions=sessions,
        temporal=drill.stack.temporal,
        ledger=await drill.ledger(),
        org=drill.org,
        batch=batch,
        finals=finals,
    )
