"""An X12 integration's own envelope ids, over the real stack: the 837P the sandbox received, the one
GET /v1/claims/{id}/x12/837 shows and the CORE envelope it came in all carry the integration row's submitter and
receiver ids instead of the CLAIMFLOW_X12_* defaults."""

from __future__ import annotations

import email.parser
import email.policy
import uuid
from dataclasses import replace

import httpx
import pytest
from temporalio.exceptions import ApplicationError

from activities.contracts import SubmitClaimInput
from activities.eligibility import EligibilityExchange
from activities.processor import ProcessorActivities
from activities.x12_adapter import X12ProcessorAdapter
from db.uow import UnitOfWork
from domain.eligibility import EligibilityInquiry
from domain.integrations import Adapter
from tests.api.test_eligibility import inquiry
from tests.api.test_integrations import add_integration, submitter
from tests.api.test_x12_flow import sent_837p, x12_claim
from tests.support.stack import Stack
from tests.workers.test_settings import production
from workers.api_config import x12_integration
from workers.settings import Settings

SUBMITTER_ID = "LABSUB01"
RECEIVER_ID = "INMEDIATA"


def segments(interchange: str) -> list[list[str]]:
    return [segment.strip().split("*") for segment in interchange.split("~") if segment.strip()]


def form_fields(request: httpx.Request) -> dict[str, str]:
    """The fields of a multipart/form-data request (a CORE envelope)."""
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
        b"Content-Type: " + request.headers["content-type"].encode() + b"\r\n\r\n" + request.content
    )
    fields: dict[str, str] = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        raw = part.get_payload(decode=True)
        if isinstance(name, str) and isinstance(raw, bytes):
            fields[name] = raw.decode()
    return fields


async def organization_with_x12_ids(stack: Stack, integration_id: str) -> str:
    """A new organization whose enabled X12 integration carries SUBMITTER_ID and RECEIVER_ID."""
    org = f"org-env-{uuid.uuid4().hex[:10]}"
    await add_integration(
        stack,
        org,
        integration_id=integration_id,
        adapter="x12",
        submitter_id=SUBMITTER_ID,
        receiver_id=RECEIVER_ID,
        enabled=True,
    )
    return org


def recording_client(sent: list[dict[str, str]]) -> httpx.AsyncClient:
    """An HTTP client that keeps the CORE envelope fields of every request it sends in `sent`."""

    async def keep(request: httpx.Request) -> None:
        await request.aread()
        sent.append(form_fields(request))

    return httpx.AsyncClient(event_hooks={"request": [keep]})


async def test_an_x12_claim_goes_out_and_is_shown_with_its_integrations_submitter_and_receiver_ids(
    stack: Stack,
) -> None:
    org = await organization_with_x12_ids(stack, "inmediata")
    lab = replace(stack, org=org, headers=submitter(org))
    claim_id = await lab.submit(x12_claim("M"))
    await lab.wait_for(claim_id, "closed")

    received = await sent_837p(lab, claim_id)  # also asserts GET …/x12/837 shows these same bytes
    by_id = {segment[0]: segment for segment in reversed(segments(received))}  # the first of each
    isa = by_id["ISA"]
    assert (isa[5], isa[6].strip(), isa[7], isa[8].strip()) == ("ZZ", SUBMITTER_ID, "ZZ", RECEIVER_ID)
    assert (by_id["GS"][2], by_id["GS"][3]) == (SUBMITTER_ID, RECEIVER_ID)
    names = {segment[1]: segment for segment in segments(received) if segment[0] == "NM1"}
    assert names["41"][-1] == SUBMITTER_ID
    assert names["40"][-1] == RECEIVER_ID

    # a resend (the stored interchange, a duplicate to the sandbox) shows the CORE envelope's ids
    sent: list[dict[str, str]] = []
    async with recording_client(sent) as http:
        adapter = X12ProcessorAdapter(
            stack.sessions, http, stack.sandbox_url, x12_integration(Settings(_env_file=None))
        )
        async with UnitOfWork(stack.sessions) as uow:
            document = await uow.claims.load_claim(claim_id)
        await adapter.submit(claim_id, document, idempotency_key=f"claim-{claim_id}-submission", callback_url=None)

    [envelope] = sent
    assert (envelope["SenderID"], envelope["ReceiverID"]) == (SUBMITTER_ID, RECEIVER_ID)


async def test_an_eligibility_inquiry_through_an_x12_integration_carries_its_ids_in_the_270_and_its_envelope(
    stack: Stack,
) -> None:
    org = await organization_with_x12_ids(stack, "availity")
    sent: list[dict[str, str]] = []
    async with recording_client(sent) as http:
        processor = ProcessorActivities(
            stack.sessions, http, stack.sandbox_url, None, x12_integration(Settings(_env_file=None))
        )
        exchange = EligibilityExchange(stack.sessions, processor)
        result = await exchange.check(EligibilityInquiry.model_validate(inquiry(payer_id="SANDBOX-X12")), org)

    assert result.active
    [envelope] = sent
    assert (envelope["SenderID"], envelope["ReceiverID"]) == (SUBMITTER_ID, RECEIVER_ID)
    isa = segments(envelope["Payload"])[0]
    assert (isa[6].strip(), isa[8].strip()) == (SUBMITTER_ID, RECEIVER_ID)


async def test_a_production_submission_with_the_dev_ids_fails_for_good_naming_the_fields_and_sends_nothing(
    stack: Stack,
) -> None:
    org = f"org-env-{uuid.uuid4().hex[:10]}"
    await add_integration(stack, org, integration_id="lab-x12", adapter="x12", enabled=False)  # no ids of its own
    lab = replace(stack, org=org, headers=submitter(org))
    claim_id = await lab.submit(x12_claim("M"))
    await lab.wait_for(claim_id, "ready")  # validated, waiting for an enabled integration
    sent: list[httpx.Request] = []

    async def keep(request: httpx.Request) -> None:
        sent.append(request)

    async with httpx.AsyncClient(event_hooks={"request": [keep]}) as http:
        processor = ProcessorActivities(stack.sessions, http, stack.sandbox_url, None, x12_integration(production()))
        with pytest.raises(ApplicationError) as failure:
            await processor.submit_claim(
                SubmitClaimInput(claim_id=claim_id, idempotency_key=f"claim-{claim_id}-submission", adapter=Adapter.X12)
            )

    assert failure.value.type == "x12_not_configured"
    assert failure.value.non_retryable
    assert "integration lab-x12" in failure.value.message
    assert "submitter_id or CLAIMFLOW_X12_SUBMITTER_ID" in failure.value.message
    assert sent == []
