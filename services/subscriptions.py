"""Webhook subscriptions: an organization subscribes a URL to its claims' events; each gets a delivery workflow."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta

from temporalio.client import WorkflowExecutionStatus
from temporalio.common import WorkflowIDConflictPolicy
from temporalio.service import RPCError

from activities.subscription_contracts import EventKey
from db.records import ClaimScope
from db.repositories.subscriptions import DeliveryRecord
from db.uow import UnitOfWork
from domain.subscriptions import NewSubscription, Subscription
from services.access import Principal
from services.context import ServiceContext
from services.errors import InvalidFieldError, NotFoundError, WorkflowServiceUnavailableError
from workflows.subscription import (
    REDELIVER_SIGNAL,
    SUBSCRIPTION_WORKFLOW,
    SubscriptionWorkflowInput,
    subscription_workflow_id,
)


def _org(principal: Principal) -> str:
    if principal.org is None:  # the router admits submitters only, whose tokens name their organization
        raise ValueError("a subscriber's token names its organization")
    return principal.org


async def subscribe(
    context: ServiceContext,
    principal: Principal,
    new: NewSubscription,
    *,
    retry_max_seconds: float,
    poll_seconds: float,
    email_enabled: bool,
) -> Subscription:
    """Record the subscription and start its delivery workflow from the feed's head: the organization's events
    from now on. If Temporal cannot start it, the subscription is withdrawn again and the caller told to retry."""
    org_id = _org(principal)
    if new.email is not None and not email_enabled:
        raise InvalidFieldError(
            "email: this claimflow sends no e-mail",
            path="email",
            problem="e-mail is not configured here (CLAIMFLOW_SMTP_HOST); subscribe a webhook url instead",
            rule="email_configured",
        )
    subscription = Subscription(
        subscription_id=uuid.uuid4().hex, org_id=org_id, url=new.target, events=new.statuses, active=True
    )
    async with UnitOfWork(context.sessions) as uow:
        head = await uow.events.head()
        await uow.subscriptions.add(subscription, secret=new.secret or "", created_by=principal.label)
        await _audit(uow, principal, "subscription.created", subscription)
        await uow.commit()
    seconds = context.config.temporal_start_timeout_seconds
    try:
        async with asyncio.timeout(seconds):
            await context.temporal.start_workflow(
                SUBSCRIPTION_WORKFLOW,
                SubscriptionWorkflowInput(
                    subscription_id=subscription.subscription_id,
                    position=str(head),
                    retry_max_seconds=retry_max_seconds,
                    poll_seconds=poll_seconds,
                ),
                id=subscription_workflow_id(subscription.subscription_id),
                task_queue=context.config.task_queue,
                id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
                static_summary=f"Webhook subscription {subscription.subscription_id[:8]} of {org_id}",
                rpc_timeout=timedelta(seconds=seconds),
            )
    except (RPCError, RuntimeError, TimeoutError) as exc:
        async with UnitOfWork(context.sessions) as uow:
            await uow.subscriptions.deactivate(subscription.subscription_id)
            await uow.commit()
        raise WorkflowServiceUnavailableError(
            "the workflow service did not answer; nothing was subscribed — send the subscription again"
        ) from exc
    return subscription


async def subscriptions(context: ServiceContext, principal: Principal) -> list[Subscription]:
    async with UnitOfWork(context.sessions) as uow:
        return await uow.subscriptions.for_org(_org(principal))


async def subscription(context: ServiceContext, principal: Principal, subscription_id: str) -> Subscription:
    async with UnitOfWork(context.sessions) as uow:
        return await _active(uow, principal, subscription_id)


async def unsubscribe(context: ServiceContext, principal: Principal, subscription_id: str) -> None:
    """Deactivate it; its delivery workflow ends at its next look for events (a delivery under way is finished)."""
    async with UnitOfWork(context.sessions) as uow:
        found = await _active(uow, principal, subscription_id)
        await uow.subscriptions.deactivate(subscription_id)
        await _audit(uow, principal, "subscription.deleted", found)
        await uow.commit()


async def deliveries(
    context: ServiceContext, principal: Principal, subscription_id: str, *, limit: int
) -> tuple[list[DeliveryRecord], WorkflowExecutionStatus | None]:
    """The delivery log (newest first), and whether its delivery workflow runs."""
    async with UnitOfWork(context.sessions) as uow:
        await _active(uow, principal, subscription_id)
        log = await uow.subscriptions.deliveries(subscription_id, limit=limit)
    try:
        handle = context.temporal.get_workflow_handle(subscription_workflow_id(subscription_id))
        async with asyncio.timeout(context.config.temporal_query_timeout_seconds):
            status = (await handle.describe()).status
    except (RPCError, RuntimeError, TimeoutError):
        status = None
    return log, status


async def redeliver(
    context: ServiceContext, principal: Principal, subscription_id: str, claim_id: str, seq: int
) -> None:
    """Post one event of the organization's claims again (after the delivery under way)."""
    org_id = _org(principal)
    async with UnitOfWork(context.sessions) as uow:
        await _active(uow, principal, subscription_id)
        event = await uow.events.one(claim_id, seq, scope=ClaimScope(kind="organization", subject=org_id))
        if event is None:
            raise NotFoundError(f"no event {seq} of claim {claim_id} that you can see")
    handle = context.temporal.get_workflow_handle(subscription_workflow_id(subscription_id))
    try:
        async with asyncio.timeout(context.config.temporal_signal_timeout_seconds):
            await handle.signal(REDELIVER_SIGNAL, EventKey(claim_id=claim_id, seq=seq, position=event.position))
    except (RPCError, RuntimeError, TimeoutError) as exc:
        raise WorkflowServiceUnavailableError(
            "the workflow service did not answer; ask for the redelivery again"
        ) from exc


async def _active(uow: UnitOfWork, principal: Principal, subscription_id: str) -> Subscription:
    found = await uow.subscriptions.get(subscription_id, org_id=_org(principal)) if len(subscription_id) <= 32 else None
    if found is None or not found.active:
        raise NotFoundError(f"no subscription {subscription_id} of your organization")
    return found


async def _audit(uow: UnitOfWork, principal: Principal, action: str, subscription: Subscription) -> None:
    await uow.audit.append(
        claim_id=None,
        actor=principal.label,
        action=action,
        at=datetime.now(UTC),
        details={
            "subscription_id": subscription.subscription_id,
            "org_id": subscription.org_id,
            "events": [status.value for status in subscription.events],
        },
        event_key=f"{action}-{uuid.uuid4().hex}",
    )
