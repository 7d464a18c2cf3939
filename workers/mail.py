"""E-mail notifications wired from settings: the SMTP mailer, and the engine's own subscription that mails each
claim's assignee when it enters review, is escalated or reassigned."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.client import Client
from temporalio.common import WorkflowIDConflictPolicy

from activities.mailer import Mailer, SmtpConfig
from db.uow import UnitOfWork
from domain.status import ClaimStatus
from domain.subscriptions import ASSIGNEE_MAIL, EVERY_ORGANIZATION, Subscription
from workers.settings import Settings
from workflows.subscription import SUBSCRIPTION_WORKFLOW, SubscriptionWorkflowInput, subscription_workflow_id

#: The engine's own subscription: every claim's in-review changes, mailed to the assignee.
ASSIGNEE_MAIL_SUBSCRIPTION = "assignee-mail"


def mailer_from_settings(settings: Settings) -> Mailer | None:
    if not settings.smtp_host:
        return None
    return Mailer(
        SmtpConfig(
            host=settings.smtp_host,
            port=settings.smtp_port,
            sender=settings.smtp_from,
            username=settings.smtp_username or None,
            password=settings.smtp_password or None,
            starttls=settings.smtp_starttls,
            public_url=settings.webhook_base_url,
        )
    )


async def start_assignee_mail(
    client: Client, sessions: async_sessionmaker[AsyncSession], *, task_queue: str, retry_max_seconds: float = 300.0
) -> None:
    """Make sure the assignee-mail subscription exists and its delivery workflow runs (from the feed's head the
    first time; a running one is left alone). Every worker calls this at start: the first one creates it."""
    subscription = Subscription(
        subscription_id=ASSIGNEE_MAIL_SUBSCRIPTION,
        org_id=EVERY_ORGANIZATION,
        url=ASSIGNEE_MAIL,
        events=[ClaimStatus.IN_REVIEW],
        active=True,
    )
    async with UnitOfWork(sessions) as uow:
        head = await uow.events.head()
        await uow.subscriptions.add(subscription, secret="", created_by="claimflow", reactivate=True)
        await uow.commit()
    await client.start_workflow(
        SUBSCRIPTION_WORKFLOW,
        SubscriptionWorkflowInput(
            subscription_id=ASSIGNEE_MAIL_SUBSCRIPTION, position=str(head), retry_max_seconds=retry_max_seconds
        ),
        id=subscription_workflow_id(ASSIGNEE_MAIL_SUBSCRIPTION),
        task_queue=task_queue,
        id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
        static_summary="E-mail to each claim's assignee on assignment, escalation and reassignment",
    )
