"""`claimflow load`: drive N claims through a running stack over the HTTP API and report how fast they closed."""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import httpx
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from api.auth import Role, mint_token
from domain.status import ClaimStatus, is_final
from workers import event_loop
from workers.sample_claims import scenario_claim
from workers.settings import Settings

#: Claims are listed this many at a time while they are followed (the API's largest page).
PAGE = 200
#: Tries per submission before it counts as refused.
SUBMIT_ATTEMPTS = 5


def percentile(values: list[float], q: float) -> float:
    """The q-th percentile (0 to 100) by the nearest-rank method; 0 for no values."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(q / 100 * len(ordered) + 0.5)))
    return ordered[rank - 1]


@dataclass
class LoadReport:
    """What a load run saw: how many claims, how long, and where they ended."""

    submitted: int
    elapsed: float
    statuses: Counter[str]
    time_to_closed: list[float] = field(default_factory=list)
    refused: int = 0

    @property
    def finished(self) -> int:
        return sum(n for status, n in self.statuses.items() if is_final(ClaimStatus(status)))

    @property
    def rate(self) -> float:
        return self.finished / self.elapsed if self.elapsed > 0 else 0.0

    def figures(self) -> str:
        return (
            f"{self.submitted} claims, {self.finished} finished in {self.elapsed:.1f} s: {self.rate:.2f} claims/s; "
            f"time to closed p50 {percentile(self.time_to_closed, 50):.2f} s, "
            f"p99 {percentile(self.time_to_closed, 99):.2f} s"
        )

    def status_line(self) -> str:
        counts = ", ".join(f"{status} {n}" for status, n in sorted(self.statuses.items()))
        return f"statuses: {counts}" + (f"; refused at intake: {self.refused}" if self.refused else "")


async def _submit(api: httpx.AsyncClient, body: dict[str, Any], *, key: str) -> str | None:
    """POST one claim; a lost connection or a 5xx is retried with the same Idempotency-Key (safe by design)."""
    for attempt in range(1, SUBMIT_ATTEMPTS + 1):
        try:
            response = await api.post("/v1/claims", json=body, headers={"Idempotency-Key": key})
        except httpx.TransportError:
            response = None
        if response is not None and response.status_code < 500:
            return str(response.json()["claim_id"]) if response.status_code == 202 else None
        await asyncio.sleep(0.2 * attempt)
    return None


async def _submit_all(
    api: httpx.AsyncClient, run: str, claims: int, prefix: str, concurrency: int, progress: Progress, task: Any
) -> tuple[list[str], int]:
    """POST every claim (at most `concurrency` at once); return the accepted claim ids and the refusals."""
    gate = asyncio.Semaphore(concurrency)
    accepted: list[str] = []
    refused = 0

    async def one(n: int) -> None:
        nonlocal refused
        async with gate:
            claim_id = await _submit(api, scenario_claim(prefix, f"{run}{n:07d}"), key=f"load-{run}-{n}")
        if claim_id is None:
            refused += 1
        else:
            accepted.append(claim_id)
        progress.advance(task)

    await asyncio.gather(*(one(n) for n in range(claims)))
    return accepted, refused


async def _statuses(api: httpx.AsyncClient) -> list[dict[str, Any]]:
    """Every claim this run's organization can see, newest first, page by page."""
    items: list[dict[str, Any]] = []
    cursor: str | None = None
    while True:
        params: dict[str, str | int] = {"limit": PAGE}
        if cursor:
            params["cursor"] = cursor
        response = await api.get("/v1/claims", params=params)
        response.raise_for_status()
        page = response.json()
        items += page["data"]
        cursor = page["next_cursor"]
        if not cursor:
            return items


async def run_load(
    *,
    api_url: str,
    token: str,
    run: str,
    claims: int,
    prefix: str = "M",
    concurrency: int = 20,
    poll_seconds: float = 1.0,
    timeout: float = 600.0,
    console: Console | None = None,
) -> LoadReport:
    """Submit `claims` claims under one organization, follow them until each is final (or the timeout)."""
    console = console or Console()
    loop = asyncio.get_running_loop()
    headers = {"Authorization": f"Bearer {token}"}
    limits = httpx.Limits(max_connections=concurrency + 2)
    async with httpx.AsyncClient(base_url=api_url, headers=headers, timeout=30, limits=limits) as api:
        with Progress(
            TextColumn("{task.description:<10}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=console,
            transient=False,
        ) as progress:
            submitting = progress.add_task("submitted", total=claims)
            finishing = progress.add_task("finished", total=claims)
            started = loop.time()
            accepted, refused = await _submit_all(api, run, claims, prefix, concurrency, progress, submitting)
            progress.update(finishing, total=len(accepted))
            deadline = started + timeout
            seen: list[dict[str, Any]] = []
            while True:
                try:
                    seen = await _statuses(api)
                except (httpx.TransportError, httpx.HTTPStatusError) as exc:
                    console.print(f"[yellow]listing the claims failed ({exc!r}); trying again[/]")
                done = [item for item in seen if is_final(ClaimStatus(item["status"]))]
                progress.update(finishing, completed=len(done))
                if len(done) >= len(accepted) or loop.time() > deadline:
                    break
                await asyncio.sleep(poll_seconds)
            elapsed = loop.time() - started
    closed = [item for item in seen if item["status"] == ClaimStatus.CLOSED.value]
    return LoadReport(
        submitted=claims,
        elapsed=elapsed,
        statuses=Counter(item["status"] for item in seen),
        time_to_closed=[
            (datetime.fromisoformat(item["updated_at"]) - datetime.fromisoformat(item["created_at"])).total_seconds()
            for item in closed
        ],
        refused=refused,
    )


def load(settings: Settings, *, claims: int, prefix: str, concurrency: int, timeout: float, api_url: str | None) -> int:
    """The `claimflow load` command: run, print the figures, exit 0 when every claim finished."""
    console = Console()
    run = uuid.uuid4().hex[:8]
    token = mint_token(
        sub=f"load-{run}",
        role=Role.SUBMITTER,
        org=f"load-{run}",  # one organization per run: its listing is exactly this run's claims
        secret=settings.jwt_secret,
        issuer=settings.jwt_issuer,
        ttl=timedelta(seconds=timeout + 600),
    )
    url = api_url or settings.webhook_base_url
    console.print(f"load: {claims} claims (member ids {prefix}…) against {url}, run {run}")
    report = event_loop.run(
        run_load(
            api_url=url,
            token=token,
            run=run,
            claims=claims,
            prefix=prefix,
            concurrency=concurrency,
            timeout=timeout,
            console=console,
        )
    )
    console.print(f"load: {report.figures()}", soft_wrap=True)
    console.print(report.status_line(), soft_wrap=True)
    return 0 if report.finished == claims else 1
