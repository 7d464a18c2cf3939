"""Benchmark 3: the read path — GET /v1/claims/{id} and the list endpoint with 100,000 claims in PostgreSQL.

    .venv/bin/python -m bench.reads [--claims 100000] [--seconds 20] [--rate 50] [--live 50]

The claims are bulk-loaded with COPY through the db models (bench/bulk_load.py), not run through
workflows. The API runs as `claimflow api` (uvicorn) in its own process; requests come over HTTP
from this process, open loop at `--rate` requests/s (latency counted from when each was due), plus
one caller at a time for the unloaded figure. Reads of finished claims touch only the database
(and append the read to the audit log, as every read does); `--live` claims are also run through
the sandbox to `in_review` by a worker in this process, and reading those adds the workflow query
for their live state.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import uuid
from collections.abc import Awaitable, Callable
from datetime import timedelta
from functools import partial
from typing import Any

import httpx
import psycopg
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import make_url

from api.auth import Role, mint_token
from bench.bulk_load import ORGS, PAYERS, bulk_load
from bench.harness import (
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
    sandbox,
    sessions_for,
    temporal,
    wait_for_count,
    write_results,
)
from workers import event_loop
from workers.sample_claims import scenario_claim
from workers.settings import DEV_JWT_SECRET
from workers.worker import claim_worker

Runner = Callable[..., Awaitable[Run]]


def token(role: Role, sub: str, org: str | None = None) -> dict[str, str]:
    value = mint_token(sub=sub, role=role, org=org, secret=DEV_JWT_SECRET, issuer=ISSUER, ttl=timedelta(hours=2))
    return {"Authorization": f"Bearer {value}"}


def sample_ids(database_url: str, n: int, seed: int = 11) -> list[tuple[str, str]]:
    """(claim id, org) of `n` random claims."""
    url = make_url(database_url).set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(url) as connection:
        rows = connection.execute("SELECT claim_id, org_id FROM claim").fetchall()
    return random.Random(seed).sample([(r[0], r[1]) for r in rows], n)


def get_claims(http: httpx.AsyncClient, ids: list[tuple[str, str]]) -> Call:
    """GET a claim as a submitter of its organization."""
    headers = {org: token(Role.SUBMITTER, f"reader-{org}", org) for org in {org for _, org in ids}}

    async def call(i: int) -> bool:
        claim_id, org = ids[i % len(ids)]
        response = await http.get(f"/v1/claims/{claim_id}", headers=headers[org])
        return response.status_code == 200

    return call


#: List requests, as a billing system and the adjusters' queue would make them (limit 50).
LIST_QUERIES: list[tuple[str, dict[str, str], str]] = [
    ("newest, one organization", {}, "submitter"),
    ("status=denied, one organization", {"status": "denied"}, "submitter"),
    ("newest, all (admin)", {}, "admin"),
    ("adjuster=alice, status=denied (supervisor)", {"status": "denied", "adjuster": "alice"}, "supervisor"),
    ("payer_id, all (admin)", {"payer_id": PAYERS[1]}, "admin"),
]


def list_claims(http: httpx.AsyncClient, pages: int = 3) -> Call:
    """One of LIST_QUERIES, page 1 to `pages` (later pages follow next_cursor from the page before)."""
    rng = random.Random(5)
    admin = token(Role.ADMIN, "bench-admin")
    supervisor = token(Role.SUPERVISOR, "carol")
    submitters = {org: token(Role.SUBMITTER, f"reader-{org}", org) for org in ORGS}
    cursors: dict[tuple[int, str], list[str]] = {}

    async def call(i: int) -> bool:
        kind = i % len(LIST_QUERIES)
        _, params, role = LIST_QUERIES[kind]
        org = rng.choice(ORGS)
        headers = {"admin": admin, "supervisor": supervisor}.get(role) or submitters[org]
        query: dict[str, str | int] = {**params, "limit": 50}
        seen = cursors.setdefault((kind, org if role == "submitter" else ""), [])
        if seen and rng.random() < (pages - 1) / pages:
            query["cursor"] = rng.choice(seen)
        response = await http.get("/v1/claims", params=query, headers=headers)
        if response.status_code != 200:
            return False
        next_cursor = response.json()["next_cursor"]
        if next_cursor and len(seen) < pages - 1:
            seen.append(next_cursor)
        return True

    return call


async def main(args: argparse.Namespace) -> None:
    compile_bytecode()
    info = machine()
    print(json.dumps(info))
    rows: list[dict[str, Any]] = []
    queue = f"bench-reads-{uuid.uuid4().hex[:8]}"
    with postgres() as url:
        print(f"loading {args.claims} claims …", flush=True)
        loaded = bulk_load(url, args.claims)
        print(json.dumps(loaded))
        ids = sample_ids(url, 5000)
        async with (
            temporal() as t,
            sessions_for(url) as sessions,
            sandbox() as processor,
            api_process(temporal_address=t.address, database_url=url, task_queue=queue) as api,
            # Reads send no update: the worker trusts a key nobody signs with.
            claim_worker(
                t.client,
                sessions,
                task_queue=queue,
                processor_url=processor.url,
                trusted_update_keys=[Ed25519PrivateKey.generate().public_key()],
                auto_integrations=True,
            ) as worker,
            httpx.AsyncClient(base_url=api.url, timeout=30, limits=httpx.Limits(max_connections=None)) as http,
        ):
            running = asyncio.create_task(worker.run())
            assert (await http.get("/readyz")).status_code == 200
            live: list[tuple[str, str]] = []
            if args.live:
                run = uuid.uuid4().hex[:6].upper()
                submitter = token(Role.SUBMITTER, "bench-live", "org-live")
                for i in range(args.live):
                    response = await http.post(
                        "/v1/claims",
                        json=scenario_claim("DENY", f"{run}{i:05d}"),
                        headers={**submitter, "Idempotency-Key": f"{run}-{i}"},
                    )
                    live.append((response.json()["claim_id"], "org-live"))
                await wait_for_count(
                    t.client, f'TaskQueue = "{queue}" AND ClaimStatus = "in_review"', args.live, timeout=300
                )
            meter = CpuMeter(
                {
                    "bench process (client, worker)": os.getpid(),
                    "API process": api.pid,
                    "postgres": backends_of(url),
                    "temporal dev server": t.pid,
                }
            )
            reads: dict[str, Call] = {
                "GET /v1/claims/{id} (finished claim)": get_claims(http, ids),
                "GET /v1/claims (list, limit 50)": list_claims(http),
            }
            if live:
                reads["GET /v1/claims/{id} (in review: + workflow query)"] = get_claims(http, live)
            print("warm-up …")
            for call in reads.values():
                await closed_loop(call, concurrency=4, seconds=3)
            for _ in range(args.rounds):
                for name, call in reads.items():
                    one_caller: Runner = partial(closed_loop, concurrency=1, seconds=args.seconds / 2)
                    at_rate: Runner = partial(open_loop, rate=args.rate, seconds=args.seconds)
                    for shape, runner in (("1 caller", one_caller), (f"open, {args.rate:g}/s", at_rate)):
                        meter.start()
                        result = await runner(call, start=random.randrange(10**6))
                        cpu = meter.stop()
                        n = max(1, len(result.latencies) + result.failures)
                        row = {
                            "read": name,
                            "load": shape,
                            **result.figures(),
                            "cpu_ms_per_request": {k: round(v / n * 1000, 2) for k, v in cpu.items()},
                        }
                        rows.append(row)
                        print(
                            f"{name:<52} {shape:<12} {row['per_s']:>7}/s  p50 {row['p50_ms']} ms  p99 {row['p99_ms']} ms  failures {row['failures']}"
                        )
            await worker.shutdown()
            await running
    print()
    print(request_table(rows, "read", list(meter.sources)))
    path = write_results("reads", {"machine": info, "args": vars(args), "loaded": loaded, "rows": rows})
    print(f"raw figures: {path}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(prog="python -m bench.reads", description=__doc__.split("\n")[0])
    parser.add_argument("--claims", type=int, default=100_000, help="finished claims to bulk-load")
    parser.add_argument("--seconds", type=float, default=20, help="length of each open-loop run")
    parser.add_argument("--rate", type=float, default=50, help="requests/s in the open-loop runs")
    parser.add_argument("--live", type=int, default=50, help="claims run to in_review through workflows (0: none)")
    parser.add_argument("--rounds", type=int, default=1)
    event_loop.run(main(parser.parse_args()))
    leave(0)
