"""SIGTERM stops `claimflow worker` and `claimflow api` within 10 s with work in flight; a new worker finishes it all.

Processor calls are held in flight by the sandbox's slow fault when the signal comes, and claims are
still arriving through the API process; both processes must exit 0 inside the bound. The client then
retries every claim with its key, and a fresh worker takes each to its end, submitted once and paid once.
"""

from __future__ import annotations

import asyncio
import signal
import subprocess
import time

import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tests.drills.conftest import Drill, within
from tests.support.drill_claims import assert_clean, claims, settle, submit_all
from tests.support.stack import free_port

STOP_SECONDS = 10.0


def terminate(process: subprocess.Popen[bytes]) -> tuple[int, float]:
    began = time.monotonic()
    process.send_signal(signal.SIGTERM)
    code = process.wait(timeout=30)
    return code, time.monotonic() - began


@within(120)
async def test_sigterm_stops_worker_and_api_in_time_with_work_in_flight(
    drill: Drill, sessions: async_sessionmaker[AsyncSession]
) -> None:
    await drill.faults(slow_rate=1.0, slow_seconds=3.0)
    worker = drill.start_worker()
    await drill.polling(worker)
    port = free_port()
    api_process = await drill.serve_api(port)
    batch = claims(["M", "PART", "M", "DENY", "M", "M"])
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=10) as api:
        await submit_all(api, drill.stack.headers, batch[:4])
        # Wait until a processor call is being held (the sandbox has seen a submission it has not answered).
        await drill.wait_ledger(lambda ledger: len(ledger["claims"]) >= 1, timeout=30)
        arriving = asyncio.create_task(submit_all(api, drill.stack.headers, batch[4:]))
        await asyncio.sleep(0.2)
        worker_code, worker_took = await asyncio.to_thread(terminate, worker)
        api_code, api_took = await asyncio.to_thread(terminate, api_process)
        arriving.cancel()
    assert (worker_code, api_code) == (0, 0), (drill.log(worker).read_text(), drill.log(api_process).read_text())
    assert worker_took < STOP_SECONDS, f"the worker took {worker_took:.1f}s to stop"
    assert api_took < STOP_SECONDS, f"the API took {api_took:.1f}s to stop"

    await drill.faults()
    drill.start_worker()
    # The client retries what the stopped API may not have taken, with the same keys (the in-process API).
    await submit_all(drill.stack.api, drill.stack.headers, batch)
    finals = await settle(drill.stack.api, drill.stack.headers, batch, timeout=90)
    await assert_clean(
        sessions=sessions,
        temporal=drill.stack.temporal,
        ledger=await drill.ledger(),
        org=drill.org,
        batch=batch,
        finals=finals,
    )
