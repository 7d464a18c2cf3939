"""Benchmark 1: the engine's ceiling next to full claims, against the same dev server in the same run.

    .venv/bin/python -m bench.ceiling [--claims 300] [--rounds 2] [--concurrency 20] [--codec]

The ceiling is a bare workflow running K no-op activities, all regular activities, one server
round trip each, where K is the number of activities a claim runs on its auto-approved path, counted
in a warm-up claim's history (10 today: validation with the snapshot, submission, 3 polls, 4 status
records, payment). Next to it, full claims: POST /v1/claims to the API (in-process, ASGI), the claim worker
in-process, PostgreSQL, and the sandbox processor as its own process over HTTP, from the POST to
`closed`. A third row runs the bare workflow with the claim's own mix of regular and local
activities, read from a finished claim's history. Rounds alternate bare / claims / bare-mix so a
noisy machine hits them alike. Claims poll fast (50 ms, then 100, 200: A2 → P1 → F1).
With --codec every client (the API's, the workers', the starter's) encrypts its payloads with the AES-GCM payload
codec (workers/payload_codec.py), as production runs by default; compare with a run without it.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
import os
import time
import uuid
from dataclasses import asdict, dataclass
from typing import Any

from temporalio.api.enums.v1 import EventType
from temporalio.client import Client, WorkflowHistory
from temporalio.worker import Worker

from bench.bare import BareWorkflow, noop
from bench.harness import (
    BENCH_POLICY,
    CpuMeter,
    Temporal,
    backends_of,
    compile_bytecode,
    leave,
    machine,
    postgres,
    sandbox,
    sessions_for,
    spread,
    table,
    temporal,
    wait_for_count,
    write_results,
)
from bench.stack import Stack, running_stack
from workers import event_loop
from workers.payload_codec import EncryptionCodec, PayloadKey
from workers.sample_claims import scenario_claim
from workers.temporal_client import encrypted
from workers.workflow_runner import workflow_runner


@dataclass
class Phase:
    name: str
    n: int
    seconds: float
    rate: float
    latency: dict[str, float]
    cpu: dict[str, float]
    plan: str = ""

    def cpu_ms_per_item(self) -> dict[str, float]:
        return {name: round(used / self.n * 1000, 1) for name, used in self.cpu.items()}


async def latencies(client: Client, query: str) -> list[float]:
    """Start to close of every workflow matching the query, from the server's own clock."""
    return [
        (w.close_time - w.start_time).total_seconds()
        async for w in client.list_workflows(query)
        if w.close_time is not None
    ]


async def bare_phase(t: Temporal, meter: CpuMeter, *, n: int, plan: list[bool], concurrency: int, name: str) -> Phase:
    queue = f"bare-{uuid.uuid4().hex[:8]}"
    gate = asyncio.Semaphore(concurrency)
    async with Worker(
        t.client,
        task_queue=queue,
        workflows=[BareWorkflow],
        activities=[noop],
        max_concurrent_activities=100,
        workflow_runner=workflow_runner(t.client.data_converter),  # the runner the claim worker uses
    ):

        async def start(i: int) -> None:
            async with gate:
                await t.client.start_workflow(BareWorkflow.run, plan, id=f"{queue}-{i}", task_queue=queue)

        meter.start()
        began = time.monotonic()
        await asyncio.gather(*(start(i) for i in range(n)))
        query = f'WorkflowType = "BareWorkflow" AND TaskQueue = "{queue}"'
        ended = await wait_for_count(t.client, f'{query} AND ExecutionStatus = "Completed"', n, timeout=1800)
        used = meter.stop()
    seconds = ended - began
    shape = f"{plan.count(False)} regular + {plan.count(True)} local"
    return Phase(name, n, seconds, n / seconds, spread(await latencies(t.client, query)), used, shape)


async def submit_claims(stack: Stack, n: int, concurrency: int, prefix: str = "M") -> list[str]:
    gate = asyncio.Semaphore(concurrency)
    run = uuid.uuid4().hex[:8].upper()

    async def one(i: int) -> str:
        async with gate:
            return await stack.submit(scenario_claim(prefix, f"{run}{i:06d}"), key=f"bench-{run}-{i}")

    return await asyncio.gather(*(one(i) for i in range(n)))


def claim_plan(history: WorkflowHistory) -> list[bool]:
    """The claim's activities in order: True for a local activity, False for a regular one."""
    plan: list[bool] = []
    for event in history.events:
        if event.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
            plan.append(False)
        elif (
            event.event_type == EventType.EVENT_TYPE_MARKER_RECORDED
            and event.marker_recorded_event_attributes.marker_name == "core_local_activity"
        ):
            plan.append(True)
    return plan


async def claims_phase(
    t: Temporal, meter: CpuMeter, sessions: Any, sandbox_url: str, *, n: int, concurrency: int
) -> tuple[Phase, list[bool], int]:
    async with running_stack(t.client, sessions, sandbox_url, policy=BENCH_POLICY) as stack:
        query = f'WorkflowType = "ClaimWorkflow" AND TaskQueue = "{stack.task_queue}"'
        meter.start()
        began = time.monotonic()
        ids = await submit_claims(stack, n, concurrency)
        ended = await wait_for_count(t.client, f'{query} AND ExecutionStatus = "Completed"', n, timeout=1800)
        used = meter.stop()
        closed = (await t.client.count_workflows(f'{query} AND ClaimStatus = "closed"')).count
        history = await t.client.get_workflow_handle(f"claim-{ids[0]}").fetch_history()
    seconds = ended - began
    plan = claim_plan(history)
    shape = f"{plan.count(False)} regular + {plan.count(True)} local; {len(history.events)} events"
    phase = Phase("claims", n, seconds, n / seconds, spread(await latencies(t.client, query)), used, shape)
    return phase, plan, closed


async def main(args: argparse.Namespace) -> None:
    compile_bytecode()
    info = machine()
    print(json.dumps(info))
    phases: list[Phase] = []
    with postgres() as url:
        async with temporal() as t, sandbox() as processor, sessions_for(url) as sessions:
            if args.codec:  # every payload of every phase through the AES-GCM codec, with a key of this run's own
                key = PayloadKey("bench", os.urandom(32))
                t = dataclasses.replace(t, client=encrypted(t.client, EncryptionCodec([key])))
            meter = CpuMeter(
                {
                    "bench process (worker, API, client)": os.getpid(),
                    "temporal dev server": t.pid,
                    "sandbox": processor.pid,
                    "postgres": backends_of(url),
                }
            )
            print("warm-up …")
            _, plan, _ = await claims_phase(t, meter, sessions, processor.url, n=20, concurrency=args.concurrency)
            k = len(plan)  # the activities of a claim's auto-approved path, regular and local
            await bare_phase(t, meter, n=20, plan=[False] * k, concurrency=args.concurrency, name="warm-up")
            for round_ in range(1, args.rounds + 1):
                bare = await bare_phase(
                    t, meter, n=args.claims, plan=[False] * k, concurrency=args.concurrency, name=f"bare x{k}"
                )
                print(f"round {round_}: {bare.name}: {bare.rate:.2f}/s")
                claims, plan, closed = await claims_phase(
                    t, meter, sessions, processor.url, n=args.claims, concurrency=args.concurrency
                )
                print(f"round {round_}: claims: {claims.rate:.2f}/s ({closed} closed) — {claims.plan}")
                if closed != args.claims:
                    raise SystemExit(f"only {closed} of {args.claims} claims closed")
                mix = await bare_phase(
                    t, meter, n=args.claims, plan=plan, concurrency=args.concurrency, name="bare, claim's mix"
                )
                print(f"round {round_}: {mix.name}: {mix.rate:.2f}/s")
                phases += [bare, claims, mix]

    def mean_rate(name: str) -> float:
        rates = [p.rate for p in phases if p.name == name]
        return sum(rates) / len(rates)

    ceiling, claims_rate, mix_rate = mean_rate(f"bare x{k}"), mean_rate("claims"), mean_rate("bare, claim's mix")
    rows = [
        [
            p.name,
            p.plan,
            p.n,
            f"{p.seconds:.1f}",
            f"{p.rate:.2f}",
            p.latency["p50_ms"],
            p.latency["p99_ms"],
            " · ".join(f"{v:g}" for v in p.cpu_ms_per_item().values()),
        ]
        for p in phases
    ]
    print()
    print(
        table(
            rows, ["run", "shape", "n", "s", "per s", "p50 ms", "p99 ms", "CPU ms each: " + " · ".join(meter.sources)]
        )
    )
    print()
    print(
        f"ceiling (bare x{k} regular): {ceiling:.2f}/s · claims: {claims_rate:.2f}/s · ratio {claims_rate / ceiling:.2f} (target >= 0.8)"
    )
    print(f"bare with the claim's mix: {mix_rate:.2f}/s · claims / that: {claims_rate / mix_rate:.2f}")
    print(f"payload codec: {'on (AES-GCM)' if args.codec else 'off'}")
    path = write_results(
        "ceiling",
        {
            "machine": info,
            "args": vars(args),
            "policy": BENCH_POLICY.model_dump(mode="json"),
            "phases": [asdict(p) | {"cpu_ms_per_item": p.cpu_ms_per_item()} for p in phases],
            "ceiling_per_s": ceiling,
            "claims_per_s": claims_rate,
            "ratio": claims_rate / ceiling,
            "bare_claim_mix_per_s": mix_rate,
        },
    )
    print(f"raw figures: {path}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(prog="python -m bench.ceiling", description=__doc__.split("\n")[0])
    parser.add_argument("--claims", type=int, default=300, help="workflows per timed run")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--concurrency", type=int, default=20, help="starts / POSTs in flight")
    parser.add_argument("--codec", action="store_true", help="encrypt every payload (the AES-GCM payload codec)")
    event_loop.run(main(parser.parse_args()))
    leave(0)
