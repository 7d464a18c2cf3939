"""Benchmark 2: what the API adds to starting a claim — POST /v1/claims next to the raw client's start_workflow.

    .venv/bin/python -m bench.api [--seconds 15] [--concurrency 20] [--rate 50] [--rounds 2]

The API runs as `claimflow api` (uvicorn) in its own process on PostgreSQL; requests come over
HTTP from this process. The raw side calls the Temporal client's start_workflow from this process
with exactly the arguments the API uses (services.claim_workflows.start_workflow: id, conflict policies,
search attributes, summary). No worker polls the task queue: both sides measure the start path only.
Per round: both sides closed-loop (`--concurrency` callers, as fast as answers come) for the
throughput ratio, then both open-loop at `--rate` requests/s (sent on schedule whether or not earlier
ones answered; latency counted from when each was due) for the latency target.
"""

from __future__ import annotations

import argparse
import json
import os
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from api.auth import Role, mint_token
from api.deps import ApiConfig, ApiContext
from bench.harness import (
    BENCH_POLICY,
    ISSUER,
    Call,
    CpuMeter,
    Run,
    api_process,
    backends_of,
    closed_loop,
    compile_bytecode,
    leave,
    machine,
    open_loop,
    postgres,
    request_table,
    sessions_for,
    temporal,
    write_results,
)
from domain.claim import Claim
from services.claim_workflows import start_workflow
from workers import event_loop
from workers.sample_claims import scenario_claim
from workers.settings import DEV_JWT_SECRET


def raw_start(context: ApiContext, claim: Claim, run: str) -> Call:
    async def call(i: int) -> bool:
        claim_id = uuid.uuid5(uuid.NAMESPACE_URL, f"{run}-{i}").hex
        await start_workflow(context, claim_id, "bench", claim, datetime.now(UTC))
        return True

    return call


def api_post(http: httpx.AsyncClient, run: str) -> Call:
    async def call(i: int) -> bool:
        response = await http.post(
            "/v1/claims", json=scenario_claim("M", f"{run}{i:07d}"), headers={"Idempotency-Key": f"{run}-{i}"}
        )
        return response.status_code == 202

    return call


async def main(args: argparse.Namespace) -> None:
    compile_bytecode()
    info = machine()
    print(json.dumps(info))
    rows: list[dict[str, Any]] = []
    queue = f"bench-api-{uuid.uuid4().hex[:8]}"
    token = mint_token(
        sub="bench", role=Role.SUBMITTER, org="bench", secret=DEV_JWT_SECRET, issuer=ISSUER, ttl=timedelta(hours=2)
    )
    with postgres() as url:
        async with (
            temporal() as t,
            sessions_for(url) as sessions,
            api_process(temporal_address=t.address, database_url=url, task_queue=queue) as api,
        ):
            context = ApiContext(
                config=ApiConfig(
                    task_queue=queue,
                    jwt_secret=DEV_JWT_SECRET,
                    jwt_issuer=ISSUER,
                    webhook_secret="unused",
                    policy=BENCH_POLICY,
                    update_signing_key=Ed25519PrivateKey.generate(),  # only starts workflows: no update is sent
                ),
                temporal=t.client,
                sessions=sessions,
            )
            claim = Claim.model_validate(scenario_claim("M", "RAW0000001"))
            # No cap on connections: in the open-loop runs each request is its own client, and a capped pool
            # would queue requests inside httpx (whose pool wait is costly) and measure the client, not the API.
            limits = httpx.Limits(max_connections=None, max_keepalive_connections=500)
            async with httpx.AsyncClient(
                base_url=api.url, headers={"Authorization": f"Bearer {token}"}, timeout=30, limits=limits
            ) as http:
                assert (await http.get("/readyz")).status_code == 200
                meter = CpuMeter(
                    {
                        "bench process (client)": os.getpid(),
                        "API process": api.pid,
                        "temporal dev server": t.pid,
                        "postgres": backends_of(url),
                    }
                )
                sides = {"start_workflow (raw client)": raw_start, "POST /v1/claims (API)": api_post}

                def call_for(side: str, run: str) -> Call:
                    return raw_start(context, claim, run) if side.startswith("start") else api_post(http, run)

                print("warm-up …")
                for side in sides:
                    await closed_loop(call_for(side, uuid.uuid4().hex[:8]), concurrency=args.concurrency, seconds=3)

                async def measure(side: str, shape: str, runner: Any) -> None:
                    run = uuid.uuid4().hex[:8].upper()
                    meter.start()
                    result: Run = await runner(call_for(side, run))
                    cpu = meter.stop()
                    n = max(1, len(result.latencies) + result.failures)
                    row = {
                        "side": side,
                        "load": shape,
                        **result.figures(),
                        "cpu_ms_per_request": {k: round(v / n * 1000, 2) for k, v in cpu.items()},
                    }
                    rows.append(row)
                    print(
                        f"{side:<30} {shape:<22} {row['per_s']:>7}/s  p50 {row['p50_ms']} ms  p99 {row['p99_ms']} ms"
                        f"  failures {row['failures']}"
                    )

                for _ in range(args.rounds):
                    for side in sides:
                        await measure(
                            side,
                            f"closed, {args.concurrency} callers",
                            lambda call: closed_loop(call, concurrency=args.concurrency, seconds=args.seconds),
                        )
                    for side in sides:
                        await measure(
                            side,
                            f"open, {args.rate:g}/s",
                            lambda call: open_loop(call, rate=args.rate, seconds=args.seconds),
                        )

    def mean(side: str, load: str, key: str) -> float:
        values = [float(r[key]) for r in rows if r["side"] == side and r["load"].startswith(load)]
        return sum(values) / len(values)

    raw, posted = list(sides)
    ratio = mean(posted, "closed", "per_s") / mean(raw, "closed", "per_s")
    print()
    print(request_table(rows, "side", list(meter.sources)))
    print()
    print(
        f"closed loop: API {mean(posted, 'closed', 'per_s'):.1f}/s vs raw {mean(raw, 'closed', 'per_s'):.1f}/s"
        f" · ratio {ratio:.2f} (target >= 0.8)"
    )
    print(
        f"open loop at {args.rate:g}/s: API p99 {mean(posted, 'open', 'p99_ms'):.1f} ms (target < 50 ms)"
        f" · raw p99 {mean(raw, 'open', 'p99_ms'):.1f} ms"
    )
    path = write_results("api", {"machine": info, "args": vars(args), "rows": rows, "ratio": ratio})
    print(f"raw figures: {path}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(prog="python -m bench.api", description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=15, help="length of each measured run")
    parser.add_argument("--concurrency", type=int, default=20, help="callers in the closed-loop runs")
    parser.add_argument("--rate", type=float, default=50, help="requests/s in the open-loop runs")
    parser.add_argument("--rounds", type=int, default=2)
    event_loop.run(main(parser.parse_args()))
    leave(0)
