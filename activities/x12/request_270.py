"""The 270 eligibility inquiry (005010X279A1) for one member and one service type, in its interchange: pure, no I/O."""

from __future__ import annotations

from datetime import datetime

from activities.x12.claim_837p import SubmitterProfile
from activities.x12.envelope import ControlNumbers, Envelope, TransactionSet, header, trailer
from activities.x12.writer import SegmentWriter, X12ValueError, digits_only
from domain.eligibility import EligibilityInquiry

IMPLEMENTATION = "005010X279A1"
TRANSACTION_SET = TransactionSet(identifier="270", functional_id="HS", implementation=IMPLEMENTATION)
#: The CORE payload types of the real-time exchange.
ELIGIBILITY_270 = "X12_270_Request_005010X279A1"
ELIGIBILITY_271 = "X12_271_Response_005010X279A1"


def originating_company(submitter: SubmitterProfile) -> str:
    """TRN03: "9" and nine more characters identifying who traces the inquiry (the submitter's id, zero-padded)."""
    digits = digits_only(submitter.identifier)[-9:]
    return "9" + digits.rjust(9, "0")


def eligibility_request(
    inquiry: EligibilityInquiry,
    *,
    payer_name: str,
    trace_number: str,
    submitter: SubmitterProfile,
    envelope: Envelope,
    control: ControlNumbers,
    created_at: datetime,
) -> str:
    """The interchange asking the payer whether the patient (its subscriber) is covered for the service type on the
    service date: 2100A payer, 2100B provider, 2100C subscriber with DMG and the date, 2110C EQ. The 271 answers
    under `trace_number` (TRN02). X12ValueError names any value that cannot be written."""
    writer = SegmentWriter(envelope.separators)
    header(writer, envelope, control, created_at, TRANSACTION_SET)
    writer.add("BHT", "0022", "13", trace_number, created_at.strftime("%Y%m%d"), created_at.strftime("%H%M"))
    writer.add("HL", "1", None, "20", "1")
    insurance = inquiry.insurance
    writer.add("NM1", "PR", "2", payer_name, None, None, None, None, "PI", insurance.payer_id, source="payer")
    writer.add("HL", "2", "1", "21", "1")
    provider = inquiry.provider
    writer.add("NM1", "1P", "2", provider.name, None, None, None, None, "XX", provider.npi, source="provider")
    writer.add("HL", "3", "2", "22", "0")
    writer.add("TRN", "1", trace_number, originating_company(submitter))
    patient = inquiry.patient
    writer.add(
        "NM1",
        "IL",
        "1",
        patient.last_name,
        patient.first_name,
        *[None] * 3,
        "MI",
        insurance.member_id,
        source="patient",
    )
    if insurance.group_number:
        writer.add("REF", "6P", insurance.group_number, source="insurance.group_number")
    writer.add("DMG", "D8", patient.date_of_birth.strftime("%Y%m%d"), patient.sex.value)
    writer.add("DTP", "291", "D8", inquiry.service_date.strftime("%Y%m%d"))
    writer.add("EQ", inquiry.service_type_code)
    trailer(writer, control)
    if writer.problems:
        raise X12ValueError(writer.problems)
    return writer.render()
