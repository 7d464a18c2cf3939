"""Claim metrics for Prometheus, read from PostgreSQL when scraped: every API process reports the same figures."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from prometheus_client.core import CounterMetricFamily, GaugeHistogramMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.repositories.metrics import MetricsRepository
from domain.status import FINAL, ClaimStatus

log = logging.getLogger(__name__)

#: Statuses in which the engine (or an operator, for `ready`) must move a claim on. Not these: final ones, `pending`
#: (the processor has it; the workflow's poll deadline sends it to review) and a person's open work (`in_review`,
#: `info_requested`: their SLA and information deadline are watched by claimflow_sla_breaches and the workflow).
STUCK_STATUSES: tuple[ClaimStatus, ...] = tuple(
    status
    for status in ClaimStatus
    if status not in FINAL and status not in {ClaimStatus.PENDING, ClaimStatus.IN_REVIEW, ClaimStatus.INFO_REQUESTED}
)

#: Upper bounds (seconds) of claimflow_claim_status_seconds: a minute to a month.
STATUS_SECONDS_BUCKETS: tuple[float, ...] = (
    1.0,
    10.0,
    60.0,
    300.0,
    900.0,
    3600.0,
    4 * 3600.0,
    12 * 3600.0,
    86400.0,
    2 * 86400.0,
    7 * 86400.0,
    14 * 86400.0,
    30 * 86400.0,
)


@dataclass(frozen=True)
class ClaimMetricsConfig:
    """How the figures are read: the query timeout, the stuck threshold, the window and how long a reading is kept."""

    query_timeout_seconds: float = 2.0
    stuck_after: timedelta = timedelta(hours=24)
    window: timedelta = timedelta(days=7)
    cache_seconds: float = 0.0  # the API built from settings keeps a reading CLAIMFLOW_METRICS_CACHE_SECONDS
    #: The figures read from the status history and the ledger (first-pass acceptance, denials by CARC, time in status)
    #: cost the most and move slowest: they are read again only this often (at least every cache_seconds).
    history_cache_seconds: float = 0.0


@dataclass(frozen=True)
class StatusStays:
    """Finished stays in one status: cumulative counts per bucket bound (the last one +Inf) and their seconds."""

    buckets: list[int]
    total_seconds: float


@dataclass(frozen=True)
class ClaimFigures:
    claims_by_status: dict[str, int]
    sla_breaches: int
    stuck: int
    reached_processor: int
    accepted_first_pass: int
    denials_by_carc: dict[str, int]
    webhook_delivery_failures: int = 0
    status_stays: dict[str, StatusStays] = field(default_factory=dict)

    @property
    def first_pass_acceptance(self) -> float:
        """The share of the claims that reached the processor it never rejected; 1.0 before any reached it."""
        return self.accepted_first_pass / self.reached_processor if self.reached_processor else 1.0


async def read_claim_figures(
    sessions: async_sessionmaker[AsyncSession],
    config: ClaimMetricsConfig,
    now: datetime | None = None,
    *,
    history_from: ClaimFigures | None = None,
) -> ClaimFigures:
    """One consistent read of every figure, in a read-only transaction whose statements time out; with
    `history_from`, the history and ledger figures are taken from it instead of read."""
    now = now or datetime.now(UTC)
    since = now - config.window
    async with sessions() as session:
        metrics = MetricsRepository(session)
        await metrics.begin_snapshot(config.query_timeout_seconds)
        by_status = await metrics.claims_by_status()
        breaches = await metrics.sla_breaches(now)
        stuck = await metrics.stuck([status.value for status in STUCK_STATUSES], now - config.stuck_after)
        webhook_failures = await metrics.webhook_delivery_failures()
        if history_from is None:
            reached, accepted = await metrics.first_pass(since)
            denials = await metrics.denials_by_carc()
            stays = _cumulative(await metrics.status_seconds(since, STATUS_SECONDS_BUCKETS))
        else:
            reached, accepted = history_from.reached_processor, history_from.accepted_first_pass
            denials, stays = history_from.denials_by_carc, history_from.status_stays
        await session.rollback()
    return ClaimFigures(
        claims_by_status={status.value: by_status.get(status.value, 0) for status in ClaimStatus},
        sla_breaches=breaches,
        stuck=stuck,
        reached_processor=reached,
        accepted_first_pass=accepted,
        denials_by_carc=denials,
        webhook_delivery_failures=webhook_failures,
        status_stays=stays,
    )


def _cumulative(rows: list[tuple[str, int, int, float]]) -> dict[str, StatusStays]:
    """Bucket rows (width_bucket's index 0..len(bounds)) into cumulative counts per bound, +Inf last."""
    size = len(STATUS_SECONDS_BUCKETS) + 1
    counts: dict[str, list[int]] = {}
    seconds: dict[str, float] = {}
    for status, bucket, count, total in rows:
        # width_bucket gives i for bounds[i-1] <= x < bounds[i]; Prometheus buckets are x <= bound. A stay exactly
        # on a bound lands one bucket up: at this resolution (timestamps to the microsecond) it does not matter.
        counts.setdefault(status, [0] * size)[min(bucket, size - 1)] += count
        seconds[status] = seconds.get(status, 0.0) + total
    stays = {}
    for status, per_bucket in counts.items():
        running, cumulative = 0, []
        for count in per_bucket:
            running += count
            cumulative.append(running)
        stays[status] = StatusStays(cumulative, seconds[status])
    return stays


def metric_families(figures: ClaimFigures) -> Iterator[Metric]:
    """The claim metrics in Prometheus form (names fixed: alert rules and dashboards use them)."""
    claims = GaugeMetricFamily("claimflow_claims", "Claims in the register, by current status.", labels=["status"])
    for status, count in figures.claims_by_status.items():
        claims.add_metric([status], count)
    yield claims
    yield GaugeMetricFamily(
        "claimflow_sla_breaches", "Claims in review whose review is past due.", value=figures.sla_breaches
    )
    yield GaugeMetricFamily(
        "claimflow_claims_stuck",
        "Claims the engine or an operator must move on (not final, not pending at the processor, not a person's open "
        "work) that have not changed status for longer than CLAIMFLOW_METRICS_STUCK_HOURS.",
        value=figures.stuck,
    )
    yield GaugeMetricFamily(
        "claimflow_first_pass_acceptance_ratio",
        "Of the original claims received in the window that reached the processor, the share it never rejected.",
        value=figures.first_pass_acceptance,
    )
    denials = CounterMetricFamily(
        "claimflow_denials", "Denied claim lines (nothing paid) posted to the ledger, by CARC.", labels=["carc"]
    )
    for carc, count in sorted(figures.denials_by_carc.items()):
        denials.add_metric([carc], count)
    yield denials
    stays = GaugeHistogramMetricFamily(
        "claimflow_claim_status_seconds",
        "Time spent in each status by the claims received in the window (finished stays; a gauge histogram).",
        labels=["status"],
    )
    bounds = [*(_bound(b) for b in STATUS_SECONDS_BUCKETS), "+Inf"]
    for status, stay in sorted(figures.status_stays.items()):
        stays.add_metric([status], list(zip(bounds, stay.buckets, strict=True)), gsum_value=stay.total_seconds)
    yield stays
    yield CounterMetricFamily(
        "claimflow_webhook_delivery_failures",
        "Webhook delivery attempts that did not deliver the event (the subscriber refused it or could not be reached).",
        value=figures.webhook_delivery_failures,
    )


def _bound(seconds: float) -> str:
    return str(float(seconds))


class ClaimMetricsCollector(Collector):
    """Collects the last figures read; `refresh` reads them again unless they are younger than cache_seconds (the
    history and ledger figures: history_cache_seconds), one reading at a time per process, so scrapes that arrive
    together cost one. A reading the database refuses or cuts
    off (the statement timeout) is logged and the last figures stay: a scrape still answers, with the request metrics
    and claimflow_claim_metrics_read_timestamp_seconds telling how old the claim figures are."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], config: ClaimMetricsConfig) -> None:
        self._sessions = sessions
        self._config = config
        self._figures: ClaimFigures | None = None
        self._read_at = 0.0
        self._history_read_at = 0.0
        self._read_wall = 0.0
        self._lock = asyncio.Lock()

    async def refresh(self) -> None:
        async with self._lock:
            if self._figures is not None and time.monotonic() - self._read_at < self._config.cache_seconds:
                return
            history_due = time.monotonic() - self._history_read_at >= self._config.history_cache_seconds
            previous = None if history_due else self._figures
            try:
                self._figures = await read_claim_figures(self._sessions, self._config, history_from=previous)
            except DBAPIError as exc:
                log.warning("metrics.claim_figures_unavailable", extra={"error": type(exc.orig).__name__})
                return
            self._read_at = time.monotonic()
            self._history_read_at = self._read_at if previous is None else self._history_read_at
            self._read_wall = time.time()

    @property
    def figures(self) -> ClaimFigures | None:
        """The figures last read (None before the first reading)."""
        return self._figures

    def collect(self) -> Iterator[Metric]:
        if self._figures is not None:
            yield from metric_families(self._figures)
            yield GaugeMetricFamily(
                "claimflow_claim_metrics_read_timestamp_seconds",
                "When this API process last read the claim figures from the database (Unix time).",
                value=self._read_wall,
            )
