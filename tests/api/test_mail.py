"""E-mail notifications through a real SMTP server (aiosmtpd): an organization's mailbox gets its claim's decisions
and requests for information, one subscribed to every status the claim's whole life; the assignee gets the claim
when it enters review and when it comes back; no patient data in any mail."""

from __future__ import annotations

import email
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from email.message import Message
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.client import Client

from activities.mailer import Mailer, SmtpConfig
from api.auth import Role
from domain.status import ClaimStatus
from tests.api.test_claim_lifecycle import member
from tests.support.database import owner_session
from tests.support.stack import Stack, auth, free_port, running_stack
from tests.support.waiting import until
from workers.mail import ASSIGNEE_MAIL_SUBSCRIPTION

MAILBOX = "billing@lab.example"
#: A mailbox subscribed to every status: it sees the claim's whole life.
EVERYTHING = "claims-log@lab.example"


@dataclass
class Inbox:
    """What the SMTP server took, per recipient."""

    messages: list[tuple[list[str], Message]] = field(default_factory=list)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # aiosmtpd calls it so
        self.messages.append((list(envelope.rcpt_tos), email.message_from_bytes(envelope.content)))
        return "250 OK"

    def to(self, address: str, claim_id: str) -> list[Message]:
        return [m for rcpts, m in self.messages if address in rcpts and claim_id in m.get_payload()]


@pytest.fixture(scope="module")
def inbox() -> Iterator[tuple[Inbox, int]]:
    handler = Inbox()
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield handler, port
    finally:
        controller.stop()


@pytest.fixture(scope="module")
async def stack(
    temporal: Client, sessions: async_sessionmaker[AsyncSession], sandbox_url: str, inbox: tuple[Inbox, int]
) -> AsyncIterator[Stack]:
    _, port = inbox
    mailer = Mailer(SmtpConfig(host="127.0.0.1", port=port, sender="claimflow@test", starttls=False))
    async with owner_session(sessions) as session:  # the adjusters' addresses (no seed has one)
        await session.execute(text("UPDATE adjuster SET email = adjuster_id || '@adjusters.example'"))
        await session.commit()
    try:
        async with running_stack(temporal, sessions, sandbox_url, mailer=mailer) as running:
            yield running
    finally:
        async with owner_session(sessions) as session:
            await session.execute(text("UPDATE adjuster SET email = NULL"))
            await session.execute(
                text("UPDATE subscription SET active = false WHERE subscription_id = :id"),
                {"id": ASSIGNEE_MAIL_SUBSCRIPTION},
            )
            await session.commit()


async def test_the_mailbox_and_the_assignee_follow_a_claim_through_review(
    stack: Stack, inbox: tuple[Inbox, int]
) -> None:
    mails, _ = inbox
    subscribed = await stack.api.post("/v1/subscriptions", json={"email": MAILBOX}, headers=stack.headers)
    assert subscribed.status_code == 201, subscribed.text
    assert subscribed.json()["email"] == MAILBOX and subscribed.json()["url"] is None
    every = [status.value for status in ClaimStatus]
    logged = await stack.api.post(
        "/v1/subscriptions", json={"email": EVERYTHING, "events": every}, headers=stack.headers
    )
    assert logged.status_code == 201, logged.text
    claim_id = await stack.submit(member("DENY"))
    claim = await stack.wait_for(claim_id, "in_review")
    adjuster = claim["assigned_adjuster"]
    assignee = f"{adjuster}@adjusters.example"
    await until(lambda: len(mails.to(assignee, claim_id)) == 1)
    assert mails.to(assignee, claim_id)[0]["Subject"] == f"Claim {claim_id[:8]} is in review"

    as_adjuster = auth(Role.ADJUSTER, sub=adjuster, org=None)
    asked = await stack.api.post(
        f"/v1/claims/{claim_id}/decision",
        json={"action": "request_info", "note": "send the requisition"},
        headers=as_adjuster,
    )
    assert asked.status_code == 200, asked.text
    await until(lambda: len(mails.to(MAILBOX, claim_id)) == 1)
    answered = await stack.api.post(f"/v1/claims/{claim_id}/information", json={"note": "sent"}, headers=stack.headers)
    assert answered.status_code == 200, answered.text
    await until(lambda: len(mails.to(assignee, claim_id)) == 2)  # back in review: the assignee is told again
    approved = await stack.api.post(f"/v1/claims/{claim_id}/decision", json={"action": "approve"}, headers=as_adjuster)
    assert approved.status_code == 200, approved.text
    await stack.wait_for(claim_id, "closed")
    await until(lambda: len(mails.to(MAILBOX, claim_id)) == 3)
    subjects = [m["Subject"] for m in mails.to(MAILBOX, claim_id)]
    assert subjects == [f"Claim {claim_id[:8]} is {s}" for s in ("info requested", "approved", "paid")]
    life = ["received", "validating", "submitted", "pending", "in review", "info requested", "in review"]
    life += ["approved", "paid", "closed"]
    await until(lambda: len(mails.to(EVERYTHING, claim_id)) == len(life))
    assert [m["Subject"] for m in mails.to(EVERYTHING, claim_id)] == [f"Claim {claim_id[:8]} is {s}" for s in life]

    patient = claim["claim"]["patient"]
    for message in [*mails.to(EVERYTHING, claim_id), *mails.to(assignee, claim_id)]:
        body = message.get_payload()
        assert f"/v1/claims/{claim_id}" in body
        for value in (patient["last_name"], patient["first_name"], patient["member_id"], patient["date_of_birth"]):
            assert value not in body and value not in message["Subject"]


async def test_an_email_subscription_needs_an_address_not_a_secret(stack: Stack) -> None:
    both = await stack.api.post(
        "/v1/subscriptions", json={"email": MAILBOX, "url": "http://127.0.0.1:9/x"}, headers=stack.headers
    )
    assert both.status_code == 422 and "either url" in both.text
    signed = await stack.api.post(
        "/v1/subscriptions", json={"email": MAILBOX, "secret": "x" * 20}, headers=stack.headers
    )
    assert signed.status_code == 422 and "e-mail is not signed" in signed.text
    bad = await stack.api.post("/v1/subscriptions", json={"email": "not-an-address"}, headers=stack.headers)
    assert bad.status_code == 422 and "email" in bad.text
