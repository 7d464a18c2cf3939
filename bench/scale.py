"""Benchmark 4: many claims open at once — worker and dev-server memory over time — and a bounded history.

    .venv/bin/python -m bench.scale [--claims 10000] [--budget 600] [--window 200] [--concurrency 8]

Part 1, history: one claim the sandbox never settles (member id NEVER…) polls every few
milliseconds; the workflow continues as new every `polls_per_run` polls (ClaimPolicy), so each
run's history stays the same size however long the claim polls. Reported: events and bytes per run.

Part 2, memory: claims with member ids DENY… go to `in_review` and wait there for an adjuster.
The worker (`claimflow worker`), the API (`claimflow api`) and the sandbox run as their own
processes, so their resident memory is theirs alone; it is sampled every 2 s with the dev server's.
Claims are submitted through the API while fewer than `--window` are on their way to review, until
`--claims` are open or `--budget` seconds have passed; held open for `--hold` seconds; then all approved
through the API (a supervisor's decision) and followed to `closed`; then as long of quiet.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
from temporalio.client import Client

from api.auth import Role, mint_token
from bench.harness import (
    BENCH_POLICY,
    ISSUER,
    api_process,
    compile_bytecode,
    count,
    leave,
    machine,
    postgres,
    rss_mib,
    sandbox,
    sessions_for,
    table,
    temporal,
    worker_process,
    write_results,
)
from bench.stack import running_stack
from workers import event_loop
from workers.sample_claims import scenario_claim
from workers.settings import DEV_JWT_SECRET
from workflows.claim_contract import ClaimPolicy


async def history_per_run(
    client: Client, sessions: Any, sandbox_url: str, *, runs: int, per_run: int
) -> dict[str, Any]:
    """Let one never-settled claim poll through `runs` full runs of `per_run` polls, then withdraw it."""
    policy = BENCH_POLICY.model_copy(
        update={
            "poll_initial": timedelta(milliseconds=5),
            "poll_max": timedelta(milliseconds=20),
            "polls_per_run": per_run,
        }
    )
    workflow_id = ""
    async with running_stack(client, sessions, sandbox_url, policy=policy) as stack:
        claim_id = await stack.submit(scenario_claim("NEVER"))
        workflow_id = f"claim-{claim_id}"
        deadline = time.monotonic() + 900
        while len([w async for w in client.list_workflows(f'WorkflowId = "{workflow_id}"')]) <= runs:
            if time.monotonic() > deadline:
                break
            await asyncio.sleep(1)
        await stack.api.post(f"/v1/claims/{claim_id}/cancel", headers=stack.headers)
        await client.get_workflow_handle(workflow_id).result()
        polls = (await stack.read(claim_id))["status_history"]
    per = []
    for run in sorted(
        [w async for w in client.list_workflows(f'WorkflowId = "{workflow_id}"')], key=lambda w: w.start_time
    ):
        history = await client.get_workflow_handle(workflow_id, run_id=run.run_id).fetch_history()
        per.append(
            {
                "status": run.status.name if run.status else "",
                "events": len(history.events),
                "bytes": len(history.to_json()),
            }
        )
    return {"polls_per_run": per_run, "runs": per, "status_changes": len(polls)}


@dataclass
class Sample:
    t: float
    phase: str
    submitted: int
    in_review: int
    closed: int
    worker_mib: float
    server_mib: float
    api_mib: float


async def main(args: argparse.Namespace) -> None:
    compile_bytecode()
    info = machine()
    print(json.dumps(info))
    queue = f"bench-scale-{uuid.uuid4().hex[:8]}"
    samples: list[Sample] = []
    results: dict[str, Any] = {"machine": info, "args": vars(args)}
    with postgres() as url:
        async with temporal() as t, sandbox() as processor, sessions_for(url) as sessions:
            if args.history_runs:
                print("part 1: history per run …", flush=True)
                results["history"] = await history_per_run(
                    t.client, sessions, processor.url, runs=args.history_runs, per_run=args.per_run
                )
                print(
                    table(
                        [
                            [n, r["status"], r["events"], r["bytes"]]
                            for n, r in enumerate(results["history"]["runs"], 1)
                        ],
                        ["run", "ended", "events", "bytes"],
                    )
                )

            logs = Path(tempfile.mkdtemp(prefix="claimflow-scale-logs-"))  # kept after the run
            print(f"worker and API logs: {logs}", flush=True)
            async with (
                worker_process(
                    temporal_address=t.address,
                    database_url=url,
                    task_queue=queue,
                    processor_url=processor.url,
                    log=logs / "worker.log",
                ) as worker,
                api_process(
                    temporal_address=t.address, database_url=url, task_queue=queue, log=logs / "api.log"
                ) as api,
            ):
                results["memory"] = await memory_run(
                    args, t.client, api.url, api.pid, worker.pid, t.pid, queue, samples
                )
    results["samples"] = [asdict(s) for s in samples]
    print(json.dumps(results["memory"], indent=1))
    path = write_results("scale", results)
    print(f"raw figures: {path}")


async def memory_run(
    args: argparse.Namespace,
    client: Client,
    api_url: str,
    api_pid: int,
    worker_pid: int,
    server_pid: int,
    queue: str,
    samples: list[Sample],
) -> dict[str, Any]:
    submitter = mint_token(
        sub="bench",
        role=Role.SUBMITTER,
        org="bench-scale",
        secret=DEV_JWT_SECRET,
        issuer=ISSUER,
        ttl=timedelta(hours=6),
    )
    supervisor = mint_token(
        sub="carol", role=Role.SUPERVISOR, org=None, secret=DEV_JWT_SECRET, issuer=ISSUER, ttl=timedelta(hours=6)
    )
    began = time.monotonic()
    phase = "idle"
    submitted: list[str] = []
    counts = {"in_review": 0, "closed": 0}

    async def refresh() -> None:
        for status in counts:
            counts[status] = await count(client, f'TaskQueue = "{queue}" AND ClaimStatus = "{status}"')

    async def sampler() -> None:
        while True:
            await refresh()
            samples.append(
                Sample(
                    t=round(time.monotonic() - began, 1),
                    phase=phase,
                    submitted=len(submitted),
                    in_review=counts["in_review"],
                    closed=counts["closed"],
                    worker_mib=round(rss_mib(worker_pid), 1),
                    server_mib=round(rss_mib(server_pid), 1),
                    api_mib=round(rss_mib(api_pid), 1),
                )
            )
            s = samples[-1]
            print(
                f"{s.t:>7.0f}s {s.phase:<9} submitted {s.submitted:>6} in_review {s.in_review:>6} closed {s.closed:>6}  worker {s.worker_mib:>7.1f} MiB  server {s.server_mib:>7.1f} MiB  api {s.api_mib:>6.1f} MiB",
                flush=True,
            )
            await asyncio.sleep(2)

    transport_errors = 0

    async def retried(send: Callable[[], Awaitable[httpx.Response]]) -> httpx.Response:
        """Send; on a connection that broke before the answer, send again (a POST keeps its Idempotency-Key,
        a decision on a claim already approved answers 409), as any client of the API should."""
        nonlocal transport_errors
        for attempt in range(5):
            try:
                return await send()
            except httpx.TransportError:
                transport_errors += 1
                await asyncio.sleep(0.5 * (attempt + 1))
        return await send()

    run = uuid.uuid4().hex[:6].upper()
    async with httpx.AsyncClient(base_url=api_url, timeout=60, limits=httpx.Limits(max_connections=None)) as http:
        watching = asyncio.create_task(sampler())
        await asyncio.sleep(10)
        phase = "opening"
        opened_at = time.monotonic()

        async def submit(i: int) -> None:
            response = await retried(
                lambda: http.post(
                    "/v1/claims",
                    json=scenario_claim("DENY", f"{run}{i:06d}"),
                    headers={"Authorization": f"Bearer {submitter}", "Idempotency-Key": f"{run}-{i}"},
                )
            )
            if response.status_code in (200, 202):
                submitted.append(response.json()["claim_id"])

        i = 0
        while i < args.claims and time.monotonic() - opened_at < args.budget:
            room = args.window - (len(submitted) - counts["in_review"])
            if room <= 0:
                await asyncio.sleep(0.5)
                continue
            batch = min(room, args.concurrency, args.claims - i)
            await asyncio.gather(*(submit(i + k) for k in range(batch)))
            i += batch
        phase = "settling"
        deadline = time.monotonic() + 900
        while counts["in_review"] < len(submitted) and time.monotonic() < deadline:  # noqa: ASYNC110 - the sampler refreshes counts
            await asyncio.sleep(1)
        opening_seconds = time.monotonic() - opened_at
        open_claims = counts["in_review"]
        phase = "holding"
        await asyncio.sleep(args.hold)
        phase = "approving"
        approve_began = time.monotonic()
        gate = asyncio.Semaphore(args.concurrency)
        refused = 0

        async def approve(claim_id: str) -> None:
            nonlocal refused
            async with gate:
                response = await retried(
                    lambda: http.post(
                        f"/v1/claims/{claim_id}/decision",
                        json={"action": "approve"},
                        headers={"Authorization": f"Bearer {supervisor}"},
                    )
                )
            if response.status_code != 200:
                refused += 1

        await asyncio.gather(*(approve(claim_id) for claim_id in submitted))
        phase = "closing"
        deadline = time.monotonic() + 1800
        while counts["closed"] < len(submitted) - refused and time.monotonic() < deadline:  # noqa: ASYNC110
            await asyncio.sleep(1)
        closing_seconds = time.monotonic() - approve_began
        phase = "quiet"
        await asyncio.sleep(args.hold)
        watching.cancel()

    def at(name: str, key: str, pick: Any = max) -> float:
        values = [getattr(s, key) for s in samples if s.phase == name]
        return float(pick(values)) if values else 0.0

    return {
        "submitted": len(submitted),
        "open_at_once": open_claims,
        "opening_seconds": round(opening_seconds, 1),
        "opened_per_s": round(open_claims / opening_seconds, 2) if opening_seconds else 0,
        "approve_refused": refused,
        "transport_errors_retried": transport_errors,
        "closed": counts["closed"],
        "approve_to_closed_seconds": round(closing_seconds, 1),
        "closed_per_s": round(counts["closed"] / closing_seconds, 2) if closing_seconds else 0,
        "worker_mib": {p: at(p, "worker_mib") for p in ("idle", "opening", "holding", "approving", "closing", "quiet")},
        "server_mib": {p: at(p, "server_mib") for p in ("idle", "opening", "holding", "approving", "closing", "quiet")},
        "api_mib": {p: at(p, "api_mib") for p in ("idle", "opening", "holding", "approving", "closing", "quiet")},
        "worker_mib_end": samples[-1].worker_mib if samples else 0,
        "server_mib_end": samples[-1].server_mib if samples else 0,
    }


if __name__ == "__main__":
    parser = argparse.ArgumentParser(prog="python -m bench.scale", description=__doc__.split("\n")[0])
    parser.add_argument("--claims", type=int, default=10_000, help="claims to hold open at once")
    parser.add_argument("--budget", type=float, default=600, help="seconds to spend opening claims, at most")
    parser.add_argument("--window", type=int, default=200, help="claims on their way to review at most")
    parser.add_argument("--concurrency", type=int, default=8, help="POSTs / decisions in flight")
    parser.add_argument(
        "--hold", type=float, default=60, help="seconds to hold the claims open, and of quiet at the end"
    )
    parser.add_argument("--history-runs", type=int, default=3, help="full runs for part 1 (0: skip part 1)")
    parser.add_argument("--per-run", type=int, default=ClaimPolicy().polls_per_run, help="polls per workflow run")
    event_loop.run(main(parser.parse_args()))
    leave(0)
