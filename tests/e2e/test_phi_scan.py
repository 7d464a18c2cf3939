"""PHI scan: claims with unmistakable patient data run every path on the real activities, and no trace of that
data is in any workflow history, search attribute, current details, query answer, log line or span.

The claims go through the API in-process, a worker with the real activities, the Temporal dev server, the
sandbox processor over HTTP and PostgreSQL: submission, payment, a validation failure (with the pregnancy-
code-on-a-male-patient warning, whose old message paired the diagnosis with the patient's sex), review, a
denial, a request for information with a note, the information provided, an approval, and a cancellation
with a reason. Logging is captured at DEBUG on every logger and the process's stdout and stderr; spans go
to an in-memory exporter. The scanner is proven on the same sources: it finds what is there on purpose
(the claims' ids, rule ids, a marker planted in one claim's history, a log line and a span).
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
import random
import string
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import pytest
from google.protobuf.json_format import MessageToDict
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.api.sdk.v1 import WorkflowMetadata
from temporalio.client import Client

from api.auth import Role
from tests.support.stack import Stack, auth, running_stack
from workers.sample_claims import scenario_claim
from workers.telemetry import tracing
from workflows.claim_contract import PROCESSOR_NOTICE_SIGNAL, STATE_QUERY, ProcessorNotice, workflow_id

pytestmark = pytest.mark.timeout(120)

FIRST_NAME, LAST_NAME = "Zyxwarden", "Quillfeather"
BIRTH = ("1931-07-19", "19310719", "07/19/1931")
ADDRESS = ("77 Vorpalbrook Lane", "Glimmerholt")
PREGNANCY_CODE = "O09.90"
#: The old messages' sentences that paired a diagnosis with the patient's sex, or echoed the claim.
SENTENCES = ("is a pregnancy code", "recorded as male", "differs from the sum of the line charges")
NOTES = {
    "deny": "Brambleworth denial note: not medically necessary for this visit",
    "request_info": "Brambleworth asks: send the signed requisition",
    "information": "Brambleworth answers: requisition attached as DOC-9",
    "approve": "Brambleworth approval: documentation complete",
    "cancel": "Brambleworth cancels: the visit was entered twice",
}


def tag() -> str:
    """A member id tail no hex id, timestamp or word can contain by chance (letters g-z only)."""
    return "".join(random.choices(string.ascii_uppercase[6:], k=10))


def patient_claim(prefix: str, *, male_with_pregnancy_code: bool = False) -> dict[str, Any]:
    """A sandbox scenario claim for the unmistakable patient, with a member id of its own."""
    body = scenario_claim(prefix, tag())
    body["patient"].update(
        first_name=FIRST_NAME,
        last_name=LAST_NAME,
        date_of_birth=BIRTH[0],
        address={"line1": ADDRESS[0], "city": ADDRESS[1], "state": "AK", "postal_code": "99501"},
    )
    if male_with_pregnancy_code:
        body["patient"]["sex"] = "M"
        body["diagnosis_codes"] = [PREGNANCY_CODE, *body["diagnosis_codes"][1:]]
    return body


def markers_of(body: dict[str, Any]) -> set[str]:
    """What must never leave the database: the patient, the claim's identifiers and every note."""
    return {
        FIRST_NAME,
        LAST_NAME,
        *BIRTH,
        *ADDRESS,
        PREGNANCY_CODE,
        *SENTENCES,
        *NOTES.values(),
        "Brambleworth",
        body["patient"]["member_id"],
        body["patient_control_number"],
    }


def found(markers: Iterable[str], texts: Iterable[str]) -> set[str]:
    """The markers any text contains, whatever the case."""
    corpus = "\n".join(texts).casefold()
    return {marker for marker in markers if marker.casefold() in corpus}


def unbase64(value: str) -> str:
    """A payload's bytes as text (proto JSON writes bytes in base64); the value itself if it is no base64."""
    try:
        return base64.b64decode(value, validate=True).decode("utf-8", "replace")
    except binascii.Error:
        return value


def decoded(document: Any) -> list[str]:
    """Every payload in a JSON proto document (a history, a description), its data and metadata decoded."""
    texts: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if isinstance(node.get("data"), str) or isinstance(node.get("metadata"), dict):
                texts.append(unbase64(str(node.get("data", ""))))
                texts.extend(unbase64(str(value)) for value in (node.get("metadata") or {}).values())
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(document)
    return texts


@dataclass
class Sources:
    """Everything the scan reads, by where it came from."""

    texts: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))

    def add(self, source: str, *texts: str) -> None:
        self.texts[source].extend(texts)

    def leaks(self, markers: set[str]) -> dict[str, set[str]]:
        return {source: hits for source, texts in self.texts.items() if (hits := found(markers, texts))}

    def all(self) -> list[str]:
        return [text for texts in self.texts.values() for text in texts]


async def observe(stack: Stack, claim_id: str, sources: Sources) -> None:
    """The claim's workflow as Temporal holds it now: history, search attributes, memo, details, query answers."""
    handle = stack.temporal.get_workflow_handle(workflow_id(claim_id))
    history = json.loads((await handle.fetch_history()).to_json())
    sources.add(f"history {claim_id}", json.dumps(history), *decoded(history))
    description = await handle.describe()
    sources.add(
        f"search attributes {claim_id}",
        *(f"{pair.key.name}={pair.value}" for pair in description.typed_search_attributes),
        json.dumps({key: str(value) for key, value in (await description.memo()).items()}),
    )
    raw = description.raw_description
    sources.add(f"description {claim_id}", str(raw), *decoded(MessageToDict(raw)))
    metadata = await handle.query("__temporal_workflow_metadata", result_type=WorkflowMetadata)
    sources.add(f"current details {claim_id}", metadata.current_details, str(metadata))
    state = await handle.query(STATE_QUERY)
    sources.add(f"state query {claim_id}", json.dumps(state, default=str))


def debug_everywhere(caplog: pytest.LogCaptureFixture) -> None:
    """Every logger at DEBUG, also those that set their own level (SQLAlchemy keeps itself at WARNING)."""
    caplog.set_level(logging.DEBUG)
    for name in list(logging.root.manager.loggerDict):
        caplog.set_level(logging.DEBUG, logger=name)


async def decide(stack: Stack, claim_id: str, action: str, review: dict[str, Any], **extra: Any) -> None:
    adjuster = auth(Role.ADJUSTER, sub=review["assigned_adjuster"], org=None)
    body = {"action": action, "note": NOTES[action], **extra}
    response = await stack.api.post(f"/v1/claims/{claim_id}/decision", json=body, headers=adjuster)
    assert response.status_code == 200, response.text


async def test_claims_through_review_decisions_information_cancellation_and_payment_leave_no_phi_behind(
    temporal: Client,
    sessions: async_sessionmaker[AsyncSession],
    sandbox_url: str,
    caplog: pytest.LogCaptureFixture,
    capfd: pytest.CaptureFixture[str],
) -> None:
    spans = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(spans))
    config = temporal.config()
    config["interceptors"] = tracing("none", provider)  # the processes' tracing, exporting to memory
    traced = Client(**config)
    debug_everywhere(caplog)
    sources = Sources()

    bodies = {
        "paid": patient_claim("M", male_with_pregnancy_code=True),
        "invalid": patient_claim("M", male_with_pregnancy_code=True),
        "denied": patient_claim("DENY"),
        "informed": patient_claim("DENY"),
        "cancelled": patient_claim("DENY"),
        "planted": patient_claim("DENY"),
    }
    bodies["invalid"]["total_charge"] = "1.00"
    async with running_stack(traced, sessions, sandbox_url) as stack:
        debug_everywhere(caplog)  # the loggers the stack made as it started, too
        ids = {name: await stack.submit(body) for name, body in bodies.items()}

        reviews = {name: await stack.wait_for(ids[name], "in_review") for name in ("denied", "informed", "cancelled")}
        for name in reviews:
            await observe(stack, ids[name], sources)
        await decide(stack, ids["denied"], "deny", reviews["denied"], reason_code="50")
        await decide(stack, ids["informed"], "request_info", reviews["informed"])
        await stack.wait_for(ids["informed"], "info_requested")
        await observe(stack, ids["informed"], sources)
        information = {"note": NOTES["information"]}
        response = await stack.api.post(
            f"/v1/claims/{ids['informed']}/information", json=information, headers=stack.headers
        )
        assert response.status_code == 200, response.text
        await decide(stack, ids["informed"], "approve", await stack.wait_for(ids["informed"], "in_review"))
        cancel = {"reason": NOTES["cancel"]}
        response = await stack.api.post(f"/v1/claims/{ids['cancelled']}/cancel", json=cancel, headers=stack.headers)
        assert response.status_code == 200, response.text

        # The scanner finds what is there: a marker planted in a claim's history on purpose (a processor notice
        # the workflow ignores), kept apart from the claims the scan judges.
        await stack.wait_for(ids["planted"], "in_review")
        planted = f"{FIRST_NAME} {LAST_NAME} planted"
        await traced.get_workflow_handle(workflow_id(ids["planted"])).signal(
            PROCESSOR_NOTICE_SIGNAL, ProcessorNotice(payer_claim_id=planted)
        )
        planted_history = Sources()
        await observe(stack, ids["planted"], planted_history)
        response = await stack.api.post(f"/v1/claims/{ids['planted']}/cancel", headers=stack.headers)
        assert response.status_code == 200, response.text

        finished = {
            "paid": await stack.wait_for(ids["paid"], "closed"),
            "invalid": await stack.wait_for(ids["invalid"], "invalid"),
            "denied": await stack.wait_for(ids["denied"], "denied"),
            "informed": await stack.wait_for(ids["informed"], "closed"),
            "cancelled": await stack.wait_for(ids["cancelled"], "cancelled"),
        }
        for name in finished:
            await traced.get_workflow_handle(workflow_id(ids[name])).result()
            await observe(stack, ids[name], sources)

    # The API still says what to fix, from the findings the workflow kept and the claim in the database.
    warnings = {(w["rule_id"], w["path"]): w["message"] for w in finished["paid"]["validation_warnings"]}
    assert PREGNANCY_CODE in warnings[("icd10.sex", "diagnosis_codes[0]")]
    errors = {(e["rule_id"], e["path"]): e["message"] for e in finished["invalid"]["validation_errors"]}
    assert "differs from the sum of the line charges, 45.00" in errors[("total_charge.sum", "total_charge")]

    provider.force_flush()
    for span in spans.get_finished_spans():
        sources.add("spans", span.to_json())
    for record in caplog.records:
        sources.add("logs", record.getMessage(), repr(vars(record)))
    out, err = capfd.readouterr()
    sources.add("stdout and stderr", out, err)

    markers = set().union(*(markers_of(body) for body in bodies.values()))
    assert sources.leaks(markers) == {}

    # The scan read plaintext where it looked: ids and rule ids are there, in every kind of source.
    every = sources.all()
    assert found(set(ids.values()) - {ids["planted"]}, every) == set(ids.values()) - {ids["planted"]}
    assert found({"total_charge.sum", "icd10.sex", "Status:** closed"}, every) == {
        "total_charge.sum",
        "icd10.sex",
        "Status:** closed",
    }
    assert found({"total_charge.sum"}, sources.texts[f"history {ids['invalid']}"])  # in a decoded payload
    assert found({f"claim-{ids['paid']}"}, sources.texts["spans"])
    assert found({"claim.submitted"}, sources.texts["logs"])
    attributes = {"ClaimStatus=closed", "PayerId=SANDBOX"}
    assert found(attributes, sources.texts[f"search attributes {ids['paid']}"]) == attributes
    # ... and it finds a marker planted in a history, a log line and a span.
    assert found({planted}, planted_history.texts[f"history {ids['planted']}"]) == {planted}
    logging.getLogger("claimflow.phi_scan").debug("planted", extra={"patient": planted})
    with provider.get_tracer("phi-scan").start_as_current_span("planted", attributes={"patient": planted}):
        pass
    planted_sources = Sources()
    planted_sources.add("logs", *(repr(vars(record)) for record in caplog.records))
    planted_sources.add("spans", *(span.to_json() for span in spans.get_finished_spans()))
    assert planted_sources.leaks({planted}) == {"logs": {planted}, "spans": {planted}}
