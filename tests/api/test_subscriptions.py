"""Webhook subscriptions on the real stack: a subscriber (a real HTTP server) sees a claim's whole life, signed and in
order; one that is down gets everything once it is back; redelivery; deletion ends the delivery workflow."""

from __future__ import annotations

import asyncio
import hmac
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from fastapi import FastAPI, Request, Response
from temporalio.client import WorkflowExecutionStatus

from api.auth import Role
from domain.subscriptions import EVENT_ID_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER, signature
from tests.api.test_claim_lifecycle import member
from tests.support.served import served
from tests.support.stack import Stack, auth
from tests.support.waiting import until
from workflows.subscription import subscription_workflow_id

SECRET = "a-subscriber-secret-of-some-length"
CLEAN_LIFE = ["received", "validating", "submitted", "pending", "approved", "paid", "closed"]


@dataclass
class Subscriber:
    """A webhook endpoint that checks every signature and keeps what it took (or answers 503 while down)."""

    url: str = ""
    down: bool = False
    taken: list[dict[str, Any]] = field(default_factory=list)
    ids: list[str] = field(default_factory=list)
    refused: int = 0

    def app(self) -> FastAPI:
        app = FastAPI()

        @app.post("/hook")
        async def hook(request: Request) -> Response:
            body = await request.body()
            timestamp = request.headers[TIMESTAMP_HEADER]
            assert hmac.compare_digest(request.headers[SIGNATURE_HEADER], signature(SECRET, timestamp, body))
            if self.down:
                self.refused += 1
                return Response(status_code=503)
            event = json.loads(body)
            assert event["id"] == request.headers[EVENT_ID_HEADER]
            self.taken.append(event)
            self.ids.append(event["id"])
            return Response(status_code=204)

        return app

    def of(self, claim_id: str) -> list[dict[str, Any]]:
        return [event for event in self.taken if event["claim_id"] == claim_id]


@pytest.fixture
async def subscriber() -> AsyncIterator[Subscriber]:
    subscriber = Subscriber()
    async with served(subscriber.app(), lifespan="off") as base_url:
        subscriber.url = f"{base_url}/hook"
        yield subscriber


async def subscribe(stack: Stack, subscriber: Subscriber, **extra: Any) -> str:
    response = await stack.api.post(
        "/v1/subscriptions", json={"url": subscriber.url, "secret": SECRET, **extra}, headers=stack.headers
    )
    assert response.status_code == 201, response.text
    subscription_id: str = response.json()["subscription_id"]
    return subscription_id


async def unsubscribe(stack: Stack, subscription_id: str) -> None:
    response = await stack.api.delete(f"/v1/subscriptions/{subscription_id}", headers=stack.headers)
    assert response.status_code == 204, response.text


async def test_a_subscriber_sees_a_claims_whole_life_signed_and_in_order(stack: Stack, subscriber: Subscriber) -> None:
    subscription_id = await subscribe(stack, subscriber)
    claim_id = await stack.submit(member("M"))
    await stack.wait_for(claim_id, "closed")
    await until(lambda: len(subscriber.of(claim_id)) == len(CLEAN_LIFE))
    events = subscriber.of(claim_id)
    assert [event["status"] for event in events] == CLEAN_LIFE
    assert [event["seq"] for event in events] == list(range(len(CLEAN_LIFE)))
    assert events[-1]["link"] == f"/v1/claims/{claim_id}" and events[-1]["total_charge"] == "45.00"
    assert "patient" not in json.dumps(events) and "Ana" not in json.dumps(events)
    log = (await stack.api.get(f"/v1/subscriptions/{subscription_id}/deliveries", headers=stack.headers)).json()
    mine = [entry for entry in log["data"] if entry["claim_id"] == claim_id]
    assert {(entry["status"], entry["attempts"]) for entry in mine} == {("delivered", 1)}
    assert log["workflow_status"] == "RUNNING"
    await unsubscribe(stack, subscription_id)


async def test_a_subscriber_down_for_a_while_gets_everything_in_order_once_back(
    stack: Stack, subscriber: Subscriber
) -> None:
    """While it answers 503 the first event is retried with back-off (the log counts the attempts) and the rest
    wait; once it answers again every event arrives, in order, each taken once."""
    subscription_id = await subscribe(stack, subscriber)
    subscriber.down = True
    claims = [await stack.submit(member("M")) for _ in range(2)]
    for claim_id in claims:
        await stack.wait_for(claim_id, "closed")
    await until(lambda: subscriber.refused >= 3)
    log = (await stack.api.get(f"/v1/subscriptions/{subscription_id}/deliveries", headers=stack.headers)).json()
    [retrying] = [entry for entry in log["data"] if entry["status"] == "delivering"]
    assert retrying["attempts"] >= 2 and retrying["response_status"] == 503
    assert retrying["last_error"] == "the subscriber answered 503"
    assert subscriber.taken == []
    subscriber.down = False
    await until(lambda: all(len(subscriber.of(claim_id)) == len(CLEAN_LIFE) for claim_id in claims))
    for claim_id in claims:
        assert [event["status"] for event in subscriber.of(claim_id)] == CLEAN_LIFE
    assert len(subscriber.ids) == len(set(subscriber.ids)) == 2 * len(CLEAN_LIFE)
    assert subscriber.ids == sorted(subscriber.ids, key=lambda i: (int(i.split("-")[0]), i))  # feed order
    await unsubscribe(stack, subscription_id)


async def test_redelivery_posts_an_event_again_with_its_id(stack: Stack, subscriber: Subscriber) -> None:
    subscription_id = await subscribe(stack, subscriber, events=["closed"])
    claim_id = await stack.submit(member("M"))
    await stack.wait_for(claim_id, "closed")
    await until(lambda: len(subscriber.of(claim_id)) == 1)
    [closed] = subscriber.of(claim_id)
    assert closed["status"] == "closed"  # only the statuses subscribed to
    response = await stack.api.post(
        f"/v1/subscriptions/{subscription_id}/deliveries/{claim_id}/{closed['seq']}/redeliver", headers=stack.headers
    )
    assert response.status_code == 202, response.text
    await until(lambda: len(subscriber.of(claim_id)) == 2)
    assert subscriber.of(claim_id)[1]["id"] == closed["id"]
    await unsubscribe(stack, subscription_id)


async def test_a_deleted_subscription_ends_its_workflow_and_is_gone(stack: Stack, subscriber: Subscriber) -> None:
    subscription_id = await subscribe(stack, subscriber)
    await unsubscribe(stack, subscription_id)
    handle = stack.temporal.get_workflow_handle(subscription_workflow_id(subscription_id))
    for _ in range(150):
        if (await handle.describe()).status is WorkflowExecutionStatus.COMPLETED:
            break
        await asyncio.sleep(0.1)
    assert (await handle.describe()).status is WorkflowExecutionStatus.COMPLETED
    missing = await stack.api.get(f"/v1/subscriptions/{subscription_id}", headers=stack.headers)
    assert missing.status_code == 404
    listed = (await stack.api.get("/v1/subscriptions", headers=stack.headers)).json()["data"]
    assert subscription_id not in {item["subscription_id"] for item in listed}


@pytest.mark.parametrize(
    ("body", "headers", "status", "says"),
    [
        ({"url": "http://127.0.0.1:9/hook", "secret": "short"}, auth(), 422, "secret"),
        ({"url": "not a url", "secret": SECRET}, auth(), 422, "url"),
        ({"url": "http://127.0.0.1:9/hook", "secret": SECRET, "events": ["nope"]}, auth(), 422, "events"),
        ({"url": "http://127.0.0.1:9/hook", "secret": SECRET}, auth(Role.ADJUSTER, sub="alice", org=None), 403, "role"),
    ],
    ids=["short secret", "bad url", "unknown status", "adjuster"],
)
async def test_a_refused_subscription_says_why(
    stack: Stack, body: dict[str, Any], headers: dict[str, str], status: int, says: str
) -> None:
    response = await stack.api.post("/v1/subscriptions", json=body, headers=headers)
    assert response.status_code == status, response.text
    assert says in response.text


async def test_another_organizations_subscription_is_404(stack: Stack, subscriber: Subscriber) -> None:
    subscription_id = await subscribe(stack, subscriber)
    other = auth(org="org-other")
    for method, path in [
        ("GET", f"/v1/subscriptions/{subscription_id}"),
        ("DELETE", f"/v1/subscriptions/{subscription_id}"),
        ("GET", f"/v1/subscriptions/{subscription_id}/deliveries"),
    ]:
        response = await stack.api.request(method, path, headers=other)
        assert response.status_code == 404, (method, path, response.text)
    await unsubscribe(stack, subscription_id)
