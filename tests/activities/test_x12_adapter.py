"""The X12 adapter's pure parts: the 276 it polls with, the 835's lines as claimflow's line adjudication, and the
CORE answer envelope it reads (the exchanges themselves run against the sandbox in tests/api/test_x12_flow.py)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from activities.processor_client import ProcessorAnswerError
from activities.x12.claim_837p import ClaimSource, Subscriber
from activities.x12.envelope import ControlNumbers
from activities.x12.parse_835 import parse_835
from activities.x12.reader import read_interchange
from activities.x12.request_276 import claim_status_request
from activities.x12.transport import read_envelope
from activities.x12.writer import X12ValueError
from activities.x12_adapter import line_adjudications
from domain.adjudication import Adjustment, GroupCode
from domain.claim import Claim
from tests.activities.test_x12_837p import AT, ENVELOPE, SUBMITTER, body, segments
from tests.activities.test_x12_parsers import sample


def the_276(claim_body: dict[str, object], subscriber: Subscriber | None = None) -> str:
    source = ClaimSource(
        claim_id="c" * 32, claim=Claim.model_validate(claim_body), payer_name="Sandbox X12", subscriber=subscriber
    )
    return claim_status_request(
        source,
        "PCN-0001",
        submitter=SUBMITTER,
        envelope=ENVELOPE,
        control=ControlNumbers.from_sequence(9),
        created_at=AT,
    )


def test_the_276_names_the_claim_by_payer_claim_id_control_number_amount_and_dates() -> None:
    text = the_276(body(lines=2))

    [transaction] = read_interchange(text).transaction_sets("276")  # envelopes and SE count checked
    assert transaction.version == "005010X212"
    found = {(s[0], s[1]): s for s in segments(text)}
    claim = Claim.model_validate(body(lines=2))
    assert found["TRN", "1"][2] == claim.patient_control_number
    assert found["REF", "1K"][2] == "PCN-0001"
    assert found["REF", "EJ"][2] == claim.patient_control_number
    assert found["AMT", "T3"][2] == "90"
    day = f"{claim.lines[0].service_date:%Y%m%d}"
    assert found["DTP", "472"][2:] == ["RD8", f"{day}-{day}"]
    assert found["NM1", "IL"][9] == claim.insurance.member_id
    assert [s[:5] for s in segments(text) if s[0] == "HL"][-1] == ["HL", "4", "3", "22", "0"]


def test_a_dependents_276_names_the_subscriber_and_then_the_patient() -> None:
    dependent = body()
    dependent["patient"] = {**dependent["patient"], "relationship_to_subscriber": "19"}
    text = the_276(dependent, Subscriber(first_name="Luis", last_name="Ruiz"))

    tags = [(s[0], s[1]) for s in segments(text)]
    assert tags.index(("NM1", "IL")) < tags.index(("HL", "5")) < tags.index(("NM1", "QC")) < tags.index(("TRN", "1"))
    with pytest.raises(X12ValueError, match="subscriber"):
        the_276(dependent)


def test_the_835s_lines_become_line_adjudication_matched_by_line_control_number() -> None:
    [remittance] = parse_835(sample("835.x12"))
    partial = next(c for c in remittance.claims if c.payer_claim_id == "PAYERCLM0011")
    claim = Claim.model_validate(body(lines=2))
    claim = claim.model_copy(
        update={
            "lines": [
                claim.lines[0].model_copy(update={"line_control_number": "L2"}),
                claim.lines[1].model_copy(update={"line_control_number": "L1"}),
            ]
        }
    )

    first, second = line_adjudications(remittance, partial, claim)

    assert (first.line_number, first.billed, first.paid, first.allowed) == (
        2,
        Decimal("100.00"),
        Decimal("70.00"),
        Decimal("90.00"),
    )
    assert first.adjustments == [
        Adjustment(group_code=GroupCode.CONTRACTUAL, reason_code="45", amount=Decimal("10.00")),
        Adjustment(group_code=GroupCode.PATIENT_RESPONSIBILITY, reason_code="2", amount=Decimal("20.00")),
    ]
    assert first.patient_responsibility == Decimal("20.00")
    # no AMT*B6: allowed is billed less what is not allowed (CO), a denial's remark kept
    assert (second.line_number, second.allowed, second.paid, second.remark_codes) == (
        1,
        Decimal("0.00"),
        Decimal("0.00"),
        ["N115"],
    )


def test_an_answer_that_is_not_a_core_envelope_is_named_as_such() -> None:
    with pytest.raises(ProcessorAnswerError, match="not a multipart/form-data envelope"):
        read_envelope("application/json", b"{}", "837P envelope")
    boundary = "b1"
    only_payload = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="Payload"\r\n\r\nISA*...\r\n--{boundary}--\r\n'
    )
    with pytest.raises(ProcessorAnswerError, match="lacks PayloadType, ErrorCode"):
        read_envelope(f"multipart/form-data; boundary={boundary}", only_payload.encode(), "837P envelope")
