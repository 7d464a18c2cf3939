"""The 276 claim status request (005010X212) for one submitted claim, in its interchange: pure, no I/O."""

from __future__ import annotations

from datetime import datetime

from activities.x12.claim_837p import SELF, ClaimSource, SubmitterProfile
from activities.x12.envelope import ControlNumbers, Envelope, TransactionSet, header, trailer
from activities.x12.writer import SegmentWriter, X12ValueError, amount

IMPLEMENTATION = "005010X212"
TRANSACTION_SET = TransactionSet(identifier="276", functional_id="HR", implementation=IMPLEMENTATION)


def claim_status_request(
    source: ClaimSource,
    payer_claim_id: str,
    *,
    submitter: SubmitterProfile,
    envelope: Envelope,
    control: ControlNumbers,
    created_at: datetime,
) -> str:
    """The interchange asking the payer for the status of one claim: found by its payer claim id (REF*1K), its
    patient control number (TRN02, REF*EJ), the member and the service dates. X12ValueError names any gap."""
    claim = source.claim
    writer = SegmentWriter(envelope.separators)
    header(writer, envelope, control, created_at, TRANSACTION_SET)
    writer.add("BHT", "0010", "13", source.claim_id, created_at.strftime("%Y%m%d"), created_at.strftime("%H%M"))
    writer.add("HL", "1", None, "20", "1")
    insurance = claim.insurance
    writer.add("NM1", "PR", "2", source.payer_name, None, None, None, None, "PI", insurance.payer_id, source="payer")
    writer.add("HL", "2", "1", "21", "1")
    writer.add("NM1", "41", "2", submitter.name, None, None, None, None, "46", submitter.identifier)
    writer.add("HL", "3", "2", "19", "1")
    provider = claim.billing_provider
    writer.add("NM1", "1P", "2", provider.name, None, None, None, None, "XX", provider.npi, source="billing_provider")
    patient = claim.patient
    is_subscriber = patient.relationship_to_subscriber == SELF
    writer.add("HL", "4", "3", "22", "0" if is_subscriber else "1")
    if is_subscriber:
        writer.add("DMG", "D8", patient.date_of_birth.strftime("%Y%m%d"), patient.sex.value)
        writer.add("NM1", "IL", "1", patient.last_name, patient.first_name, *[None] * 3, "MI", insurance.member_id)
    else:
        if source.subscriber is None:
            raise X12ValueError(["subscriber: the patient is not the subscriber, and no subscriber is known"])
        subscriber = source.subscriber
        writer.add(
            "NM1", "IL", "1", subscriber.last_name, subscriber.first_name, *[None] * 3, "MI", insurance.member_id
        )
        writer.add("HL", "5", "4", "23")
        writer.add("DMG", "D8", patient.date_of_birth.strftime("%Y%m%d"), patient.sex.value)
        writer.add("NM1", "QC", "1", patient.last_name, patient.first_name)
    writer.add("TRN", "1", claim.patient_control_number, source="patient_control_number")
    writer.add("REF", "1K", payer_claim_id, source="payer_claim_id")
    writer.add("REF", "EJ", claim.patient_control_number, source="patient_control_number")
    writer.add("AMT", "T3", amount(claim.total_charge))
    first = min(line.service_date for line in claim.lines)
    last = max(line.service_date for line in claim.lines)
    writer.add("DTP", "472", "RD8", f"{first:%Y%m%d}-{last:%Y%m%d}")
    trailer(writer, control)
    if writer.problems:
        raise X12ValueError(writer.problems)
    return writer.render()
