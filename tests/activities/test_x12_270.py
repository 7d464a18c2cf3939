"""The 270 eligibility inquiry (005010X279A1): its segments, its envelope, what it refuses to write, and that the
sandbox's own reader reads it (pyx12 4.0 ships no 005010X279A1 map — only 4010's 270/271 — so its validator cannot
check a 5010 270)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest
from pydantic import ValidationError

from activities.x12.envelope import ControlNumbers
from activities.x12.reader import transaction_sets
from activities.x12.request_270 import eligibility_request, originating_company
from activities.x12.writer import X12ValueError
from domain.eligibility import EligibilityInquiry
from sandbox.x12_reader import read, read_270
from tests.activities.test_x12_837p import ENVELOPE, SUBMITTER

AT = datetime(2026, 12, 3, 8, 0, tzinfo=UTC)


def inquiry(**changes: Any) -> EligibilityInquiry:
    body: dict[str, Any] = {
        "patient": {
            "first_name": "Ada",
            "last_name": "Lovelace",
            "date_of_birth": "1980-12-10",
            "sex": "F",
            "member_id": "M123456",
        },
        "insurance": {"payer_id": "SANDBOX-X12", "member_id": "M123456", "group_number": "G100"},
        "provider": {"npi": "1234567893", "name": "Acme Lab"},
        "service_date": "2026-11-20",
        "service_type_code": "5",
    }
    body.update(changes)
    return EligibilityInquiry.model_validate(body)


def the_270(asked: EligibilityInquiry, number: int = 41) -> str:
    return eligibility_request(
        asked,
        payer_name="Sandbox X12",
        trace_number="TRACE0001",
        submitter=SUBMITTER,
        envelope=ENVELOPE,
        control=ControlNumbers.from_sequence(number),
        created_at=AT,
    )


def segments(interchange: str) -> list[str]:
    return [s.strip() for s in interchange.split("~") if s.strip()]


def test_the_270_asks_about_the_subscriber_for_the_service_type_on_the_day() -> None:
    found = segments(the_270(inquiry()))
    body = found[found.index(next(s for s in found if s.startswith("ST*"))) :]
    assert body == [
        "ST*270*0041*005010X279A1",
        "BHT*0022*13*TRACE0001*20261203*0800",
        "HL*1**20*1",
        "NM1*PR*2*Sandbox X12*****PI*SANDBOX-X12",
        "HL*2*1*21*1",
        "NM1*1P*2*Acme Lab*****XX*1234567893",
        "HL*3*2*22*0",
        f"TRN*1*TRACE0001*{originating_company(SUBMITTER)}",
        "NM1*IL*1*Lovelace*Ada****MI*M123456",
        "REF*6P*G100",
        "DMG*D8*19801210*F",
        "DTP*291*D8*20261120",
        "EQ*5",
        "SE*14*0041",
        "GE*1*41",
        "IEA*1*000000041",
    ]
    assert found[1] == "GS*HS*ACME01*SANDBOXCH*20261203*0800*41*X*005010X279A1"
    assert len(originating_company(SUBMITTER)) == 10 and originating_company(SUBMITTER).startswith("9")


def test_the_270_reads_with_the_engine_reader_and_the_sandboxs_own() -> None:
    interchange = the_270(inquiry())
    [transaction] = transaction_sets(interchange, "270")
    assert transaction.control_number == "0041"
    asked = read_270(read(interchange))
    assert (asked.member_id, asked.last_name, asked.first_name, asked.date_of_birth, asked.sex) == (
        "M123456",
        "Lovelace",
        "Ada",
        "19801210",
        "F",
    )
    assert (asked.trace_number, asked.service_type, asked.service_date, asked.group_number) == (
        "TRACE0001",
        "5",
        "20261120",
        "G100",
    )


def test_without_a_group_number_no_ref_is_written() -> None:
    asked = inquiry(insurance={"payer_id": "SANDBOX-X12", "member_id": "M1"})
    assert not any(s.startswith("REF*6P") for s in segments(the_270(asked)))


def test_a_delimiter_in_a_name_is_refused_by_the_inquirys_shape() -> None:
    with pytest.raises(ValidationError) as caught:
        inquiry(provider={"npi": "1234567893", "name": "Acme*Lab"})
    assert [e["loc"] for e in caught.value.errors()] == [("provider", "name")]


def test_the_writer_names_a_delimiter_that_reaches_it() -> None:
    asked = inquiry().model_copy(update={"service_date": date(2026, 11, 20)})
    with pytest.raises(X12ValueError) as caught:
        eligibility_request(
            asked,
            payer_name="Sandbox~X12",
            trace_number="T1",
            submitter=SUBMITTER,
            envelope=ENVELOPE,
            control=ControlNumbers.from_sequence(1),
            created_at=AT,
        )
    assert caught.value.problems == [
        "payer (NM103) holds '~', a delimiter of the interchange: remove it from the claim's value"
    ]
