"""/v1/subscriptions: an organization's webhooks for its claims' events, their delivery log and redelivery."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response, status

from api.deps import ContextDep, OrgMember
from api.schemas.subscriptions import DeliveryLog, DeliveryRead, SubscriptionList, SubscriptionRead
from domain.subscriptions import Channel, NewSubscription, Subscription
from services import subscriptions

router = APIRouter(prefix="/v1/subscriptions", tags=["subscriptions"])

PROBLEMS: dict[int | str, dict[str, object]] = {
    401: {"description": "No or an invalid bearer token"},
    403: {"description": "Only an organization's submitters subscribe"},
    404: {"description": "No such subscription of your organization"},
}


def _read(subscription: Subscription) -> SubscriptionRead:
    return SubscriptionRead(
        subscription_id=subscription.subscription_id,
        url=None if subscription.channel is Channel.EMAIL else subscription.url,
        email=subscription.email,
        events=subscription.events,
        active=subscription.active,
    )


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=SubscriptionRead,
    responses={**PROBLEMS, 422: {}, 503: {"description": "Temporal did not answer; nothing was subscribed"}},
)
async def subscribe(
    body: NewSubscription, principal: OrgMember, context: ContextDep, response: Response
) -> SubscriptionRead:
    """Mail your organization's claim decisions and requests for information (or the `events` statuses) to
    `email`, or post its claim events (every status change, or the `events` statuses) to `url`, from now on:
    JSON with the event id, claim id, seq, status, reason, amounts and a link (no patient data), signed —
    `Claimflow-Signature: v1=<hex HMAC-SHA256 of "<Claimflow-Timestamp>.<body>" under your secret>` — with
    `Claimflow-Event-Id` to drop a repeat. In order; a delivery your URL does not take with a 2xx is retried with
    back-off until it does, and the next ones wait."""
    created = await subscriptions.subscribe(
        context,
        principal,
        body,
        retry_max_seconds=context.config.subscription_retry_max_seconds,
        poll_seconds=context.config.subscription_poll_seconds,
        email_enabled=context.config.email_enabled,
    )
    response.headers["Location"] = f"/v1/subscriptions/{created.subscription_id}"
    return _read(created)


@router.get("", response_model=SubscriptionList, responses=PROBLEMS)
async def list_subscriptions(principal: OrgMember, context: ContextDep) -> SubscriptionList:
    return SubscriptionList(data=[_read(s) for s in await subscriptions.subscriptions(context, principal)])


@router.get("/{subscription_id}", response_model=SubscriptionRead, responses=PROBLEMS)
async def read_subscription(subscription_id: str, principal: OrgMember, context: ContextDep) -> SubscriptionRead:
    return _read(await subscriptions.subscription(context, principal, subscription_id))


@router.delete("/{subscription_id}", status_code=status.HTTP_204_NO_CONTENT, responses=PROBLEMS)
async def unsubscribe(subscription_id: str, principal: OrgMember, context: ContextDep) -> None:
    """Stop the deliveries (one under way is finished); the log stays."""
    await subscriptions.unsubscribe(context, principal, subscription_id)


@router.get("/{subscription_id}/deliveries", response_model=DeliveryLog, responses=PROBLEMS)
async def delivery_log(
    subscription_id: str,
    principal: OrgMember,
    context: ContextDep,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> DeliveryLog:
    """Each event's delivery as its last attempt left it (attempts, the answer's status, the error), newest first."""
    log, workflow_status = await subscriptions.deliveries(context, principal, subscription_id, limit=limit)
    return DeliveryLog(
        subscription_id=subscription_id,
        workflow_status=workflow_status.name if workflow_status else None,
        data=[DeliveryRead.model_validate(entry, from_attributes=True) for entry in log],
    )


@router.post(
    "/{subscription_id}/deliveries/{claim_id}/{seq}/redeliver",
    status_code=status.HTTP_202_ACCEPTED,
    responses={**PROBLEMS, 503: {"description": "Temporal did not answer; ask again"}},
)
async def redeliver(subscription_id: str, claim_id: str, seq: int, principal: OrgMember, context: ContextDep) -> None:
    """Post that event again, after the delivery under way (signed anew; the same `Claimflow-Event-Id`)."""
    await subscriptions.redeliver(context, principal, subscription_id, claim_id, seq)
