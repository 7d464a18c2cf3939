"""Benchmark: scale out on one machine — two API processes behind a small round-robin proxy and 1, 2 then 3 worker
processes against one Temporal server; then, with 3 workers, one worker and one API killed (SIGKILL) mid-run.

    .venv/bin/python -m bench.scale_out [--claims 120] [--concurrency 16]

Each phase submits `--claims` clean claims (member ids M…, paid in full and closed by the engine alone) through the
proxy, each with an Idempotency-Key, and times them from the first submission to the last `closed` (Temporal's
visibility, every 0.25 s). A submission the proxy or a dying API could not answer is sent again with the same key.
The kill phase checks that nothing is lost or done twice: every claim closed, the sandbox applied one submission and
one payment per claim, and the API made one claim per key.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import json
import os
import signal
import tempfile
import time
import uuid
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx

from api.auth import Role, mint_token
from bench.harness import (
    ISSUER,
    api_process,
    compile_bytecode,
    count,
    free_port,
    machine,
    postgres,
    sandbox,
    table,
    temporal,
    worker_process,
    write_results,
)
from workers import event_loop
from workers.sample_claims import scenario_claim
from workers.settings import DEV_JWT_SECRET


class Proxy:
    """A TCP proxy that hands each connection to the next backend in turn, skipping one that refuses it."""

    def __init__(self, backends: list[tuple[str, int]]) -> None:
        self.backends = backends
        self._turn = itertools.count()

    async def _connect(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        for _ in range(len(self.backends)):
            host, port = self.backends[next(self._turn) % len(self.backends)]
            with contextlib.suppress(OSError):
                return await asyncio.open_connection(host, port)
        raise OSError("no backend takes connections")

    async def handle(self, client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter) -> None:
        try:
            backend_reader, backend_writer = await self._connect()
        except OSError:
            client_writer.close()
            return

        async def pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            with contextlib.suppress(OSError, asyncio.IncompleteReadError):
                while data := await reader.read(65536):
                    writer.write(data)
                    await writer.drain()
            with contextlib.suppress(OSError):
                writer.close()

        await asyncio.gather(pipe(client_reader, backend_writer), pipe(backend_reader, client_writer))


@contextlib.asynccontextmanager
async def proxy(backends: list[str]) -> AsyncIterator[str]:
    """The proxy in this process, in front of the API URLs given; its URL."""
    hosts = [(url.split("//")[1].split(":")[0], int(url.rsplit(":", 1)[1])) for url in backends]
    port = free_port()
    server = await asyncio.start_server(Proxy(hosts).handle, "127.0.0.1", port)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.close()


async def submit_all(api: httpx.AsyncClient, token: str, n: int, concurrency: int, tag: str) -> tuple[list[str], int]:
    """Submit n claims (each retried with its own key until the API answers 202); their ids, and the retries."""
    ids: list[str] = []
    retries = 0
    gate = asyncio.Semaphore(concurrency)

    async def one(i: int) -> None:
        nonlocal retries
        body = scenario_claim("M", f"{tag}{i:05d}")
        headers = {"Authorization": f"Bearer {token}", "Idempotency-Key": f"{tag}-{i}"}
        async with gate:
            for _ in range(60):
                try:
                    response = await api.post("/v1/claims", json=body, headers=headers)
                    if response.status_code == 202:
                        ids.append(response.json()["claim_id"])
                        return
                except httpx.HTTPError:
                    pass
                retries += 1
                await asyncio.sleep(0.5)
        raise RuntimeError(f"claim {i} was never taken")

    await asyncio.gather(*(one(i) for i in range(n)))
    return ids, retries


async def until_closed(client: Any, queue: str, n: int, timeout: float) -> float:
    """Seconds until n claims of the queue are closed."""
    began = time.monotonic()
    for _ in range(int(timeout / 0.25)):
        if await count(client, f'TaskQueue = "{queue}" AND ClaimStatus = "closed"') >= n:
            return time.monotonic() - began
        await asyncio.sleep(0.25)
    raise RuntimeError(f"fewer than {n} claims closed within {timeout:.0f} s")


async def main(args: argparse.Namespace) -> None:
    compile_bytecode()
    info = machine()
    print(json.dumps(info), flush=True)
    token = mint_token(
        sub="bench",
        role=Role.SUBMITTER,
        org="bench-scale-out",
        secret=DEV_JWT_SECRET,
        issuer=ISSUER,
        ttl=timedelta(hours=2),
    )
    logs = Path(tempfile.mkdtemp(prefix="claimflow-scale-out-logs-"))
    print(f"logs: {logs}", flush=True)
    rows: list[dict[str, Any]] = []
    with postgres() as url:
        async with temporal() as t, sandbox(logs / "sandbox.log") as processor:
            queue = f"bench-scale-out-{uuid.uuid4().hex[:8]}"
            common = {"temporal_address": t.address, "database_url": url, "task_queue": queue}
            async with (
                api_process(**common, log=logs / "api-1.log") as api_1,
                api_process(**common, log=logs / "api-2.log") as api_2,
                proxy([api_1.url, api_2.url]) as front,
                httpx.AsyncClient(base_url=front, timeout=30) as api,
            ):
                closed = 0
                for workers in (1, 2, 3):
                    async with contextlib.AsyncExitStack() as stack:
                        for w in range(workers):
                            await stack.enter_async_context(
                                worker_process(**common, processor_url=processor.url, log=logs / f"worker-{w}.log")
                            )
                        await asyncio.sleep(2)  # the workers poll
                        began = time.monotonic()
                        ids, retries = await submit_all(api, token, args.claims, args.concurrency, f"w{workers}")
                        await until_closed(t.client, queue, closed + len(ids), timeout=600)
                        seconds = time.monotonic() - began
                        closed += len(ids)
                        rows.append(
                            {
                                "phase": f"{workers} worker(s)",
                                "claims": len(ids),
                                "seconds": round(seconds, 1),
                                "claims_per_s": round(len(ids) / seconds, 2),
                                "retries": retries,
                            }
                        )
                        print(json.dumps(rows[-1]), flush=True)
                rows.append(
                    await kill_phase(args, api, token, common, processor.url, logs, t.client, queue, closed, api_1.pid)
                )
                print(json.dumps(rows[-1]), flush=True)
            async with httpx.AsyncClient(base_url=processor.url) as sandbox_api:
                ledger = (await sandbox_api.get("/_sandbox/ledger")).json()
    claims = ledger["claims"]
    once = all(c["submissions_applied"] == 1 and c["payments_applied"] == 1 for c in claims)
    total = sum(row["claims"] for row in rows)
    verdict = {"sandbox_claims": len(claims), "expected": total, "each_submitted_and_paid_once": once}
    print(json.dumps(verdict), flush=True)
    print(
        table(
            [[r["phase"], r["claims"], r["seconds"], r["claims_per_s"], r["retries"]] for r in rows],
            ["phase", "claims", "s", "claims/s", "resubmissions"],
        )
    )
    path = write_results("scale_out", {"machine": info, "args": vars(args), "rows": rows, "verdict": verdict})
    print(f"raw figures: {path}")
    if len(claims) != total or not once:
        raise SystemExit("claims lost or applied twice")


async def kill_phase(
    args: argparse.Namespace,
    api: httpx.AsyncClient,
    token: str,
    common: dict[str, str],
    processor_url: str,
    logs: Path,
    client: Any,
    queue: str,
    closed: int,
    api_pid: int,
) -> dict[str, Any]:
    """3 workers; a third of the way into the submissions one worker and one API are killed (SIGKILL)."""
    async with contextlib.AsyncExitStack() as stack:
        pids = [
            (
                await stack.enter_async_context(
                    worker_process(**common, processor_url=processor_url, log=logs / f"kill-worker-{w}.log")
                )
            ).pid
            for w in range(3)
        ]
        await asyncio.sleep(2)
        began = time.monotonic()
        submitting = asyncio.create_task(submit_all(api, token, args.claims, args.concurrency, "kill"))
        await asyncio.sleep(max(1.0, args.claims / 3 / 20))
        os.kill(pids[0], signal.SIGKILL)
        os.kill(api_pid, signal.SIGKILL)
        ids, retries = await submitting
        await until_closed(client, queue, closed + len(ids), timeout=900)
        seconds = time.monotonic() - began
    return {
        "phase": "3 workers, 1 worker and 1 API killed",
        "claims": len(set(ids)),
        "seconds": round(seconds, 1),
        "claims_per_s": round(len(ids) / seconds, 2),
        "retries": retries,
    }


def parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--claims", type=int, default=120)
    parser.add_argument("--concurrency", type=int, default=16)
    return parser.parse_args()


if __name__ == "__main__":
    event_loop.run(main(parse()))
