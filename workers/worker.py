"""The claim worker: registers ClaimWorkflow and the bound activity methods on the task queue."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from datetime import timedelta
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from opentelemetry.trace import TracerProvider
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.client import Client
from temporalio.worker import Worker

from activities.assignment import AssignmentActivities
from activities.claim_records import ClaimRecordActivities
from activities.eligibility import ClaimEligibilityActivities
from activities.integrations import IntegrationActivities
from activities.mailer import Mailer
from activities.notifications import NotificationActivities
from activities.processor import ProcessorActivities
from activities.risk import RiskActivities
from activities.x12.interchange import X12Integration
from workers.activity_failures import PlainActivityFailures
from workers.api_config import x12_integration
from workers.mail import mailer_from_settings, start_assignee_mail
from workers.settings import Settings
from workers.startup import load_code_sets
from workers.telemetry import traced_client
from workers.tls import client_context
from workers.update_guard import UpdateGuard
from workers.update_keys import trusted_keys
from workers.workflow_runner import workflow_runner
from workflows.claim import ClaimWorkflow
from workflows.subscription import SubscriptionWorkflow

#: On shutdown, running activities get this long to finish before they are cancelled (they retry elsewhere).
ACTIVITY_GRACE = timedelta(seconds=2)
#: How long a worker's shutdown may take in all before the process moves on without it.
SHUTDOWN_SECONDS = 4.0


@asynccontextmanager
async def claim_worker(
    client: Client,
    sessions: async_sessionmaker[AsyncSession],
    *,
    task_queue: str,
    processor_url: str,
    trusted_update_keys: list[Ed25519PublicKey],
    processor_timeout: float = 10.0,
    processor_ca_file: Path | None = None,
    webhook_base: str | None = None,
    max_concurrent_activities: int = 16,
    max_concurrent_local_activities: int = 16,
    x12: X12Integration | None = None,
    auto_integrations: bool = False,
    risk_threshold: int = 50,
    risk_scoring_url: str | None = None,
    risk_scoring_timeout: float = 2.0,
    tracer_provider: TracerProvider | None = None,
    mailer: Mailer | None = None,
) -> AsyncIterator[Worker]:
    """A worker with its activities' clients; closes them on exit. It runs only the updates signed by one of
    `trusted_update_keys` (the API's public keys). `auto_integrations`: an organization without an integration gets
    the sandbox's on its first claim (dev). Its HTTP calls are client spans of `tracer_provider` (default: the global)."""
    await asyncio.to_thread(load_code_sets)  # loaded and frozen now, not on the first claim
    verify = client_context(processor_ca_file)
    async with traced_client(timeout=processor_timeout, verify=verify, provider=tracer_provider) as http:
        records = ClaimRecordActivities(sessions)
        processor = ProcessorActivities(
            sessions, http, processor_url, f"{webhook_base}/v1/webhooks/processor" if webhook_base else None, x12
        )
        assignment = AssignmentActivities(sessions)
        integrations = IntegrationActivities(sessions, auto_provision=auto_integrations)
        eligibility = ClaimEligibilityActivities(sessions, processor)
        risk = RiskActivities(
            sessions, http, threshold=risk_threshold, scoring_url=risk_scoring_url, scoring_timeout=risk_scoring_timeout
        )
        notifications = NotificationActivities(sessions, mailer=mailer)
        worker = Worker(
            client,
            task_queue=task_queue,
            workflows=[ClaimWorkflow, SubscriptionWorkflow],
            activities=[
                records.validate_and_snapshot_claim,
                records.record_status_changes,
                records.mark_original_claim,
                integrations.resolve_integration,
                eligibility.check_claim_eligibility,
                processor.submit_claim,
                processor.poll_claim_status,
                processor.issue_payment,
                assignment.assign_adjuster,
                risk.screen_claim_risk,
                notifications.next_events,
                notifications.deliver_event,
            ],
            max_concurrent_activities=max_concurrent_activities,
            max_concurrent_local_activities=max_concurrent_local_activities,
            workflow_runner=workflow_runner(client.data_converter),
            graceful_shutdown_timeout=ACTIVITY_GRACE,
            interceptors=[UpdateGuard(trusted_update_keys), PlainActivityFailures()],
        )
        if mailer is not None:  # the engine's own subscription: assignees are mailed their claims
            await start_assignee_mail(client, sessions, task_queue=task_queue)
        yield worker


def worker_from_settings(
    client: Client, sessions: async_sessionmaker[AsyncSession], settings: Settings
) -> AbstractAsyncContextManager[Worker]:
    """The claim worker as the CLAIMFLOW_* settings configure it (`claimflow dev` and `claimflow worker`)."""
    return claim_worker(
        client,
        sessions,
        task_queue=settings.task_queue,
        processor_url=settings.processor_url,
        trusted_update_keys=trusted_keys(settings),
        processor_timeout=settings.processor_timeout_seconds,
        processor_ca_file=settings.tls_ca_file,
        webhook_base=settings.webhook_base_url,
        max_concurrent_activities=settings.worker_max_activities,
        max_concurrent_local_activities=settings.worker_max_local_activities,
        x12=x12_integration(settings),
        auto_integrations=settings.auto_integrations,
        risk_threshold=settings.risk_threshold,
        risk_scoring_url=settings.risk_scoring_url or None,
        risk_scoring_timeout=settings.risk_scoring_timeout_seconds,
        mailer=mailer_from_settings(settings),
    )


async def stop_worker(worker: Worker) -> None:
    """Stop polling, give running activities ACTIVITY_GRACE, and return within SHUTDOWN_SECONDS whatever hangs."""
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(worker.shutdown(), SHUTDOWN_SECONDS)
