"""The sandbox speaks X12 over the CAQH CORE envelope at /core/: every scenario answers as it does in JSON, an 837P
resent under the same control numbers is one claim, REJ999's transaction set is rejected in the 999, PLB's 835
carries a claim-level CAS and a PLB, and what it writes back reads with the engine's parsers (and, for the 999,
277CA and 835, passes pyx12's 5010 validator)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from activities.x12.claim_837p import ClaimSource, claim_837p
from activities.x12.envelope import ControlNumbers
from activities.x12.models import ClaimStatusAnswer
from activities.x12.parse_277 import parse_277
from activities.x12.parse_835 import parse_835
from activities.x12.parse_999 import parse_999
from activities.x12.request_276 import claim_status_request
from activities.x12.transport import read_envelope
from domain.claim import Claim
from sandbox.scenarios import FINALIZED, SCENARIOS, scenario_for
from tests.activities.test_x12_837p import ENVELOPE, LAB_ADDRESS, PATIENT_ADDRESS, SUBMITTER, pyx12_errors
from tests.sandbox.sandbox_testkit import ledger
from workers.sample_claims import scenario_claim

AT = datetime(2026, 12, 3, 8, 0, tzinfo=UTC)
#: The scenarios whose 837P is taken (REJ999's transaction set is rejected in the 999: tested on its own below).
PREFIXES = ["M", *(s.prefix for s in SCENARIOS if s.prefix and not s.rejects_transaction_set)]


def source(prefix: str, **changes: Any) -> ClaimSource:
    body = scenario_claim(prefix)
    body["insurance"]["payer_id"] = "SANDBOX-X12"
    body["patient"]["address"] = PATIENT_ADDRESS
    body["billing_provider"]["address"] = LAB_ADDRESS
    body.update(changes)
    return ClaimSource(claim_id=uuid.uuid4().hex, claim=Claim.model_validate(body), payer_name="Sandbox X12")


def the_837p(claim: ClaimSource, number: int) -> str:
    control = ControlNumbers.from_sequence(number)
    return claim_837p(claim, submitter=SUBMITTER, envelope=ENVELOPE, control=control, created_at=AT)


def the_276(claim: ClaimSource, payer_claim_id: str, number: int) -> str:
    control = ControlNumbers.from_sequence(number)
    return claim_status_request(
        claim, payer_claim_id, submitter=SUBMITTER, envelope=ENVELOPE, control=control, created_at=AT
    )


async def core(client: httpx.AsyncClient, payload_type: str, payload: str, mode: str = "Batch") -> httpx.Response:
    fields = {
        "PayloadType": payload_type,
        "ProcessingMode": mode,
        "PayloadID": str(uuid.uuid4()),
        "TimeStamp": "2026-12-03T08:00:00Z",
        "SenderID": "ACME01",
        "ReceiverID": "SANDBOXCH",
        "CORERuleVersion": "2.2.0",
        "Payload": payload,
    }
    return await client.post("/core/", files={name: (None, value) for name, value in fields.items()})


async def answer(client: httpx.AsyncClient, payload_type: str, payload: str, mode: str = "Batch") -> str:
    response = await core(client, payload_type, payload, mode)
    assert response.status_code == 200, response.text
    envelope = read_envelope(response.headers["content-type"], response.content, "test")
    assert envelope.error_code == "Success"
    return envelope.payload


def claim_status(payload: str) -> ClaimStatusAnswer:
    [report] = parse_277(payload)
    [status] = report.claims
    return status


async def submit(client: httpx.AsyncClient, claim: ClaimSource, number: int) -> tuple[str, ClaimStatusAnswer]:
    payload = await answer(client, "X12_837_Request_005010X222A1", the_837p(claim, number))
    [ack] = parse_999(payload)
    assert ack.group_status.accepted
    return payload, claim_status(payload)


@pytest.mark.parametrize("prefix", PREFIXES)
async def test_every_scenario_answers_in_x12_as_it_does_in_json(client: httpx.AsyncClient, prefix: str) -> None:
    claim = source(prefix)
    json_body = {
        "claim_id": "json-" + claim.claim_id,
        "patient_control_number": "J" + claim.claim.patient_control_number[:19],
        "payer_id": "SANDBOX",
        "member_id": claim.claim.insurance.member_id,
        "total_charge": "45.00",
        "lines": [{"line_number": 1, "procedure_code": "80053", "charge": "45.00", "service_date": "2026-11-20"}],
    }
    json_receipt = (await client.post("/v1/claims", json=json_body, headers={"Idempotency-Key": "j" + prefix})).json()

    _, receipt = await submit(client, claim, 100)

    assert (receipt.status.category_code, receipt.status.status_code) == (
        json_receipt["category"],
        json_receipt["status_code"],
    )
    for poll in range(12):  # SLOW's eight pending answers, and then some
        expected = (await client.get(f"/v1/claims/{json_receipt['payer_claim_id']}/status")).json()
        status = claim_status(
            await answer(
                client, "X12_276_Request_005010X212", the_276(claim, receipt.payer_claim_id, 200 + poll), "RealTime"
            )
        )
        assert status.status.category_code == expected["category"]
        assert status.payer_claim_id == receipt.payer_claim_id
    if expected["category"] in FINALIZED:
        [remittance] = parse_835(
            await answer(client, "X12_835_Request_005010X221A1", the_276(claim, receipt.payer_claim_id, 300))
        )
        assert remittance.balanced, remittance.findings
        [paid] = remittance.claims
        assert [
            (
                str(line.billed),
                str(line.paid),
                [(a.group.value, a.reason_code, str(a.amount)) for a in line.adjustments],
            )
            for line in paid.lines
        ] == [
            (
                line["billed"],
                line["paid"],
                [(a["group_code"], a["reason_code"], a["amount"]) for a in line["adjustments"]],
            )
            for line in expected["lines"]
        ]


async def test_a_resent_837p_with_the_same_control_numbers_is_one_claim(client: httpx.AsyncClient) -> None:
    claim = source("M")
    _, receipt = await submit(client, claim, 41)
    _, replayed = await submit(client, claim, 41)

    assert replayed.payer_claim_id == receipt.payer_claim_id
    book = await ledger(client)
    [entry] = [e for e in book["claims"] if e["claim_id"] == claim.claim_id]
    assert (book["submissions_applied"], entry["submission_replays"]) == (1, 1)
    assert entry["x12_interchange"] == the_837p(claim, 41)


async def test_other_content_under_used_control_numbers_is_refused_as_a_duplicate(client: httpx.AsyncClient) -> None:
    await submit(client, source("M"), 42)
    response = await core(client, "X12_837_Request_005010X222A1", the_837p(source("M"), 42))

    assert response.status_code == 409
    assert (
        read_envelope(response.headers["content-type"], response.content, "test").error_code == "DuplicateInterchange"
    )
    assert (await ledger(client))["submissions_applied"] == 1


async def test_the_sandboxs_999_277ca_and_835_pass_pyx12(client: httpx.AsyncClient) -> None:
    """pyx12 4.0 ships no registered map for the 277 of 005010X212 (nor the 276): those are checked by the engine's
    parser in the scenario test above instead."""
    claim = source("PART")
    acknowledgment, receipt = await submit(client, claim, 51)
    for n in range(3):
        await answer(client, "X12_276_Request_005010X212", the_276(claim, receipt.payer_claim_id, 52 + n), "RealTime")
    remittance = await answer(client, "X12_835_Request_005010X221A1", the_276(claim, receipt.payer_claim_id, 60))

    assert pyx12_errors(acknowledgment) == []
    assert pyx12_errors(remittance) == []


async def test_a_claim_for_a_payer_that_does_not_speak_x12_is_returned_unprocessable(client: httpx.AsyncClient) -> None:
    claim = source("M")
    claim = claim.model_copy(
        update={
            "claim": claim.claim.model_copy(
                update={"insurance": claim.claim.insurance.model_copy(update={"payer_id": "SANDBOX"})}
            )
        }
    )
    _, receipt = await submit(client, claim, 70)

    assert (receipt.status.category_code, receipt.status.status_code) == ("A3", "116")
    assert (await ledger(client))["submissions_applied"] == 0


@pytest.mark.parametrize(
    ("fields", "code"),
    [
        ({"PayloadType": "X12_837_Request_005010X222A1"}, "EnvelopeError"),
        ({"CORERuleVersion": "2.1.0"}, "VersionMismatch"),
        ({"PayloadType": "X12_278_Request_005010X217"}, "PayloadTypeNotSupported"),  # prior authorisation: not spoken
        ({"Payload": "NOT X12"}, "PayloadError"),
    ],
)
async def test_a_bad_envelope_is_400_with_its_core_error_code(
    client: httpx.AsyncClient, fields: dict[str, str], code: str
) -> None:
    envelope = {
        "PayloadType": "X12_837_Request_005010X222A1",
        "ProcessingMode": "Batch",
        "PayloadID": "p-1",
        "TimeStamp": "2026-12-03T08:00:00Z",
        "SenderID": "ACME01",
        "ReceiverID": "SANDBOXCH",
        "CORERuleVersion": "2.2.0",
        "Payload": the_837p(source("M"), 80),
    }
    if code == "EnvelopeError":
        envelope.pop("Payload")
    else:
        envelope.update(fields)
    response = await client.post("/core/", files={name: (None, value) for name, value in envelope.items()})

    assert response.status_code == 400
    assert read_envelope(response.headers["content-type"], response.content, "test").error_code == code


async def test_an_837p_whose_claim_does_not_read_is_rejected_in_the_999_and_not_taken(
    client: httpx.AsyncClient,
) -> None:
    sent = the_837p(source("M"), 90)
    charge = next(segment for segment in sent.split("~") if segment.strip().startswith("SV1")).split("*")[2]
    payload = await answer(client, "X12_837_Request_005010X222A1", sent.replace(f"*{charge}*UN", "*45.001*UN"))

    [ack] = parse_999(payload)
    assert not ack.group_status.accepted
    assert "ST*277" not in payload  # no 277CA for a rejected transaction set
    assert (await ledger(client))["submissions_applied"] == 0


async def test_a_rej999_claims_transaction_set_is_rejected_in_the_999_and_not_taken_and_json_answers_a3(
    client: httpx.AsyncClient,
) -> None:
    claim = source("REJ999")
    payload = await answer(client, "X12_837_Request_005010X222A1", the_837p(claim, 95))

    [ack] = parse_999(payload)
    [transaction_set] = ack.transaction_sets
    assert (ack.group_status.value, ack.sets_accepted) == ("R", 0)
    assert (transaction_set.status.value, transaction_set.syntax_error_codes) == ("R", ["5"])
    assert "ST*277" not in payload  # no 277CA: the claim was not taken
    book = (await client.get("/_sandbox/ledger", params={"claim_id": claim.claim_id})).json()
    assert (book["submissions_applied"], book["transaction_sets_rejected"], book["claims"]) == (0, 1, [])
    json_body = {
        "claim_id": "json-" + claim.claim_id,
        "patient_control_number": "J" + claim.claim.patient_control_number[:19],
        "payer_id": "SANDBOX",
        "member_id": claim.claim.insurance.member_id,
        "total_charge": "45.00",
        "lines": [{"line_number": 1, "procedure_code": "80053", "charge": "45.00", "service_date": "2026-11-20"}],
    }
    json_receipt = (await client.post("/v1/claims", json=json_body, headers={"Idempotency-Key": "j999"})).json()
    assert json_receipt["category"] == scenario_for("REJ999").submission.category == "A3"


async def test_a_plb_claims_835_takes_a_claim_level_cas_and_carries_a_plb_and_balances(
    client: httpx.AsyncClient,
) -> None:
    claim = source("PLB")
    _, receipt = await submit(client, claim, 110)
    for n in range(3):
        await answer(client, "X12_276_Request_005010X212", the_276(claim, receipt.payer_claim_id, 111 + n), "RealTime")
    payload = await answer(client, "X12_835_Request_005010X221A1", the_276(claim, receipt.payer_claim_id, 120))

    [remittance] = parse_835(payload)
    [paid] = remittance.claims
    assert remittance.balanced, remittance.findings
    assert [(a.group.value, a.reason_code, str(a.amount)) for a in paid.adjustments] == [("CO", "253", "0.90")]
    assert (str(paid.billed), str(paid.paid), [str(line.paid) for line in paid.lines]) == ("45.00", "44.10", ["45.00"])
    [plb] = remittance.provider_adjustments
    assert (plb.reason_code, plb.reference, str(plb.amount)) == ("L6", receipt.payer_claim_id, "-0.50")
    assert str(remittance.payment.amount) == "44.60"  # BPR02: the claim's 44.10 and the 0.50 interest
    [entry] = (await client.get("/_sandbox/ledger", params={"claim_id": claim.claim_id})).json()["claims"]
    assert entry["paid_amount"] == "44.10"
    assert pyx12_errors(payload) == []
