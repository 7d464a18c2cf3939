"""The API's /metrics on the real stack: request metrics by route template, and claim gauges that move with claims.

The database is shared with other modules: claim figures are compared before and after this module's claims move.
The module's stack runs a 2-second review SLA without escalation, so a claim left in review breaches it for real.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.types import Message, Receive, Scope, Send
from temporalio.client import Client

from api.metrics import RequestMetrics, RequestMetricsMiddleware
from db.repositories.metrics import MetricsRepository
from services.metrics import STATUS_SECONDS_BUCKETS, ClaimMetricsCollector, ClaimMetricsConfig, read_claim_figures
from tests.api.test_claim_lifecycle import member
from tests.api.test_subscriptions import Subscriber, subscribe, unsubscribe, until
from tests.support.served import served
from tests.support.stack import FAST_POLICY, Stack, running_stack

SLA = timedelta(seconds=2)
METRICS = ClaimMetricsConfig(stuck_after=timedelta(seconds=1))

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


@pytest.fixture(scope="module")
async def stack(temporal: Client, sessions: async_sessionmaker[AsyncSession], sandbox_url: str) -> AsyncIterator[Stack]:
    policy = FAST_POLICY.model_copy(update={"review_sla": SLA, "max_escalations": 0})
    async with running_stack(temporal, sessions, sandbox_url, policy=policy, claim_metrics=METRICS) as running:
        yield running


@pytest.fixture
async def subscriber() -> AsyncIterator[Subscriber]:
    """A webhook endpoint on a real port (tests.api.test_subscriptions' Subscriber: answers 503 while down)."""
    subscriber = Subscriber()
    async with served(subscriber.app(), lifespan="off") as base_url:
        subscriber.url = f"{base_url}/hook"
        yield subscriber


async def scrape(stack: Stack) -> tuple[str, Samples]:
    response = await stack.api.get("/metrics")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain")
    samples: Samples = {}
    for family in text_string_to_metric_families(response.text):
        for sample in family.samples:
            samples[(sample.name, frozenset(sample.labels.items()))] = sample.value
    return response.text, samples


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


async def test_request_metrics_are_labelled_by_route_template_and_never_by_claim_id(stack: Stack) -> None:
    claim_id = await stack.submit(member("M"))
    await stack.wait_for(claim_id, "closed")  # read (GET) until paid and closed: settled before the next test counts
    missing = "0" * 32
    assert (await stack.api.get(f"/v1/claims/{missing}", headers=stack.headers)).status_code == 404
    assert (await stack.api.get(f"/no/such/{claim_id}")).status_code == 404

    text, samples = await scrape(stack)
    read = {"route": "/v1/claims/{claim_id}", "method": "GET"}
    assert value(samples, "claimflow_http_requests_total", **read, status="200") >= 1
    assert value(samples, "claimflow_http_requests_total", **read, status="404") >= 1
    assert value(samples, "claimflow_http_requests_total", route="/v1/claims", method="POST", status="202") >= 1
    assert value(samples, "claimflow_http_requests_total", route="unmatched", method="GET", status="404") >= 1
    assert value(samples, "claimflow_http_request_duration_seconds_count", **read) >= 2
    assert value(samples, "claimflow_http_request_duration_seconds_bucket", **read, le="+Inf") >= 2
    assert claim_id not in text
    assert missing not in text
    routes = {dict(labels).get("route") for (name, labels) in samples if name.startswith("claimflow_http_")}
    assert all(route is not None and (route == "unmatched" or route.startswith("/")) for route in routes)


async def test_claim_figures_move_as_claims_are_denied_rejected_and_left_in_review(
    stack: Stack, sessions: async_sessionmaker[AsyncSession]
) -> None:
    before = await read_claim_figures(sessions, METRICS)
    _, scraped_before = await scrape(stack)

    denied = await stack.submit(member("DENY"))  # the payer denies every line CO-50; an adjuster must review it
    rejected = await stack.submit(member("REJECT"))  # the processor rejects the submission (A7)
    await stack.wait_for(denied, "in_review")
    await stack.wait_for(rejected, "in_review")
    await asyncio.sleep(SLA.total_seconds() + 0.5)  # both reviews are now past due

    after = await read_claim_figures(sessions, METRICS)
    text, scraped = await scrape(stack)

    assert after.claims_by_status["in_review"] - before.claims_by_status["in_review"] >= 2
    assert after.sla_breaches - before.sla_breaches >= 2
    assert after.reached_processor - before.reached_processor == 2
    assert after.accepted_first_pass - before.accepted_first_pass == 1  # the denial was accepted, then denied
    assert after.denials_by_carc.get("50", 0) - before.denials_by_carc.get("50", 0) >= 1
    stays_before = before.status_stays.get("submitted")
    stays_after = after.status_stays["submitted"]
    assert stays_after.buckets[-1] - (stays_before.buckets[-1] if stays_before else 0) >= 2

    # The endpoint shows the same figures.
    in_review = value(scraped, "claimflow_claims", status="in_review")
    assert in_review - value(scraped_before, "claimflow_claims", status="in_review") >= 2
    assert value(scraped, "claimflow_sla_breaches") >= after.sla_breaches  # read a moment later: never fewer
    assert value(scraped, "claimflow_first_pass_acceptance_ratio") == pytest.approx(
        after.accepted_first_pass / after.reached_processor
    )
    assert value(scraped, "claimflow_denials_total", carc="50") == after.denials_by_carc["50"]
    assert (
        value(scraped, "claimflow_claim_status_seconds_bucket", status="submitted", le="+Inf")
        == (stays_after.buckets[-1])
    )
    assert len([line for line in text.splitlines() if "claimflow_claim_status_seconds_bucket{" in line]) >= len(
        STATUS_SECONDS_BUCKETS
    )
    assert value(scraped, "claimflow_webhook_delivery_failures_total") == after.webhook_delivery_failures
    assert value(scraped, "claimflow_claim_metrics_read_timestamp_seconds") >= time.time() - 5
    for claim_id in (denied, rejected):
        assert claim_id not in text


async def test_a_claim_no_worker_picks_up_counts_as_stuck_once_unchanged_past_the_threshold(
    temporal: Client, sessions: async_sessionmaker[AsyncSession], sandbox_url: str
) -> None:
    async with running_stack(temporal, sessions, sandbox_url, with_worker=False, claim_metrics=METRICS) as idle:
        before = await read_claim_figures(sessions, METRICS)
        claim_id = await idle.submit(member("M"))  # received, and no worker on its task queue to move it
        await asyncio.sleep(METRICS.stuck_after.total_seconds() + 0.5)
        after = await read_claim_figures(sessions, METRICS)
        _, scraped = await scrape(idle)
        async with sessions() as session:
            status = await session.scalar(text("SELECT status FROM claim WHERE claim_id = :id"), {"id": claim_id})

    assert status == "received"
    assert after.stuck - before.stuck >= 1
    assert value(scraped, "claimflow_claims_stuck") >= 1


async def test_webhook_delivery_failures_count_the_attempts_a_subscriber_refused(
    stack: Stack, subscriber: Subscriber
) -> None:
    subscription_id = await subscribe(stack, subscriber, events=["closed"])
    _, before = await scrape(stack)
    subscriber.down = True  # answers 503
    claim_id = await stack.submit(member("M"))
    await stack.wait_for(claim_id, "closed")
    await until(lambda: subscriber.refused >= 2)
    _, during = await scrape(stack)
    subscriber.down = False
    await until(lambda: len(subscriber.of(claim_id)) == 1)
    _, after = await scrape(stack)
    await unsubscribe(stack, subscription_id)

    failures = "claimflow_webhook_delivery_failures_total"
    assert value(during, failures) - value(before, failures) >= 2
    refused = subscriber.refused  # every refusal is a failed attempt; the delivery that was taken is not
    assert value(after, failures) - value(before, failures) == refused


async def test_the_figures_are_read_in_a_read_only_snapshot_whose_statements_time_out(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with sessions() as session:
        await MetricsRepository(session).begin_snapshot(0.2)
        with pytest.raises(DBAPIError, match="statement timeout"):
            await session.execute(text("SELECT pg_sleep(2)"))
    async with sessions() as session:
        await MetricsRepository(session).begin_snapshot(2.0)
        with pytest.raises(DBAPIError, match="read-only transaction"):
            await session.execute(text("UPDATE claim SET status = status"))


async def test_a_request_the_client_abandoned_counts_as_499_and_one_that_failed_as_500() -> None:
    metrics = RequestMetrics()

    async def abandoned(scope: Scope, receive: Receive, send: Send) -> None:
        return  # the handler was cancelled when the client left: no answer started

    async def failing(scope: Scope, receive: Receive, send: Send) -> None:
        raise RuntimeError("the handler failed")

    async def receive() -> Message:
        return {"type": "http.disconnect"}

    async def send(message: Message) -> None:
        raise AssertionError("nothing is sent")

    scope: Scope = {"type": "http", "method": "GET", "path": "/v1/claims", "headers": []}
    await RequestMetricsMiddleware(abandoned, metrics=metrics)(scope, receive, send)
    with pytest.raises(RuntimeError):
        await RequestMetricsMiddleware(failing, metrics=metrics)(dict(scope), receive, send)

    def count(status: str) -> float | None:
        labels = {"route": "unmatched", "method": "GET", "status": status}
        return metrics.registry.get_sample_value("claimflow_http_requests_total", labels)

    assert (count("499"), count("500")) == (1.0, 1.0)


async def test_history_figures_are_kept_for_their_own_cache_time_while_the_live_ones_move(
    stack: Stack, sessions: async_sessionmaker[AsyncSession]
) -> None:
    collector = ClaimMetricsCollector(sessions, ClaimMetricsConfig(history_cache_seconds=3600))
    await collector.refresh()
    first = collector.figures
    claim_id = await stack.submit(member("M"))
    await stack.wait_for(claim_id, "closed")
    await collector.refresh()
    kept = collector.figures
    fresh = await read_claim_figures(sessions, ClaimMetricsConfig())

    assert first is not None and kept is not None
    assert kept.claims_by_status["closed"] == first.claims_by_status["closed"] + 1  # live: read again
    assert (kept.reached_processor, kept.status_stays) == (first.reached_processor, first.status_stays)  # kept
    assert fresh.reached_processor == first.reached_processor + 1
