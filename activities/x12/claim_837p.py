"""The 837P professional claim (005010X222A1) of one claim, in its interchange: pure, no I/O.

Everything comes from the claim as submitted (the document its snapshot copies), from reference data the caller
looked up (the payer's name, a subscriber who is not the patient) and from the integration's settings (the
submitter and receiver, the envelope). What an 837P requires and none of them has is reported, never invented.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, StringConstraints, model_validator

from activities.x12.envelope import ControlNumbers, Envelope, TransactionSet, header, trailer
from activities.x12.writer import SegmentWriter, X12ValueError, amount, digits_only
from domain.claim import Address, Claim, FrequencyCode, Provider, Sex

IMPLEMENTATION = "005010X222A1"
TRANSACTION_SET = TransactionSet(identifier="837", functional_id="HC", implementation=IMPLEMENTATION)
#: PAT01: the patient's relationship to the subscriber when they are not the same person.
PATIENT_RELATIONSHIPS = frozenset({"01", "19", "20", "21", "39", "40", "53", "G8"})
SELF = "18"
#: What the 837P holds at most: diagnoses per claim (HI), modifiers and diagnosis pointers per line (SV1).
MAX_DIAGNOSES, MAX_MODIFIERS, MAX_POINTERS = 12, 4, 4
#: CLM01 and a person's first name (NM104) in characters.
MAX_PATIENT_CONTROL_NUMBER, MAX_FIRST_NAME = 20, 35

Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=60)]
Identifier = Annotated[str, StringConstraints(strip_whitespace=True, min_length=2, max_length=80)]


class SubmitterProfile(BaseModel):
    """Loop 1000A (who submits) and 1000B (the clearinghouse that receives), and the plan type the integration
    bills: an integration's settings."""

    model_config = ConfigDict(frozen=True)

    name: Text
    identifier: Identifier  # NM109: the submitter's id at the receiver (ETIN)
    contact_name: Text
    contact_phone: Annotated[str, StringConstraints(strip_whitespace=True, min_length=10, max_length=20)] | None = None
    contact_email: Annotated[str, StringConstraints(strip_whitespace=True, min_length=3, max_length=80)] | None = None
    receiver_name: Text
    receiver_id: Identifier
    #: SBR09: CI commercial insurance, MB Medicare part B, MC Medicaid, BL Blue Cross/Blue Shield, …
    claim_filing_indicator: Annotated[str, StringConstraints(min_length=1, max_length=2)] = "CI"

    @model_validator(mode="after")
    def _reachable(self) -> SubmitterProfile:
        if not (self.contact_phone or self.contact_email):
            raise ValueError("the submitter's contact needs a phone number or an email address (1000A PER)")
        return self


class Subscriber(BaseModel):
    """The insured person when the patient is someone else (from reference data): loop 2010BA."""

    model_config = ConfigDict(frozen=True)

    first_name: Text
    last_name: Text
    date_of_birth: date | None = None
    sex: Sex | None = None
    address: Address | None = None


class ClaimSource(BaseModel):
    """One claim and what the caller found for it beyond the claim itself."""

    model_config = ConfigDict(frozen=True)

    claim_id: str
    claim: Claim
    payer_name: Text
    #: Required when the patient is not the subscriber; ignored when they are.
    subscriber: Subscriber | None = None


def claim_837p(
    source: ClaimSource,
    *,
    submitter: SubmitterProfile,
    envelope: Envelope,
    control: ControlNumbers,
    created_at: datetime,
) -> str:
    """The interchange carrying this claim's 837P. X12ValueError names every gap or bad value at once."""
    problems = missing(source)
    if problems:
        raise X12ValueError(problems)
    claim = source.claim
    writer = SegmentWriter(envelope.separators)
    header(writer, envelope, control, created_at, TRANSACTION_SET)
    writer.add("BHT", "0019", "00", source.claim_id, created_at.strftime("%Y%m%d"), created_at.strftime("%H%M"), "CH")
    _submitter_and_receiver(writer, submitter)
    _billing_provider(writer, claim)
    patient_is_subscriber = claim.patient.relationship_to_subscriber == SELF
    _subscriber(writer, source, submitter, patient_is_subscriber)
    if not patient_is_subscriber:
        _patient(writer, claim)
    _claim(writer, claim)
    _service_lines(writer, claim)
    trailer(writer, control)
    if writer.problems:
        raise X12ValueError(writer.problems)
    return writer.render()


def missing(source: ClaimSource) -> list[str]:
    """What the 837P needs that this claim (with what the caller found) lacks or holds beyond its limits."""
    claim = source.claim
    problems: list[str] = []
    if len(claim.patient_control_number) > MAX_PATIENT_CONTROL_NUMBER:
        problems.append(
            f"patient_control_number: at most {MAX_PATIENT_CONTROL_NUMBER} characters in an 837P (CLM01); "
            f"it has {len(claim.patient_control_number)}"
        )
    if claim.billing_provider.address is None:
        problems.append("billing_provider.address: the 837P needs the billing provider's address (2010AA N3/N4)")
    if claim.patient.address is None:
        problems.append("patient.address: the 837P needs the patient's address (2010BA or 2010CA N3/N4)")
    if len(claim.patient.first_name) > MAX_FIRST_NAME:
        problems.append(f"patient.first_name: at most {MAX_FIRST_NAME} characters in an 837P (NM104)")
    relationship = claim.patient.relationship_to_subscriber
    if relationship != SELF:
        if relationship not in PATIENT_RELATIONSHIPS:
            problems.append(
                f"patient.relationship_to_subscriber: {relationship!r} is not an 837P relationship (PAT01): "
                f"use {SELF} (self) or one of {', '.join(sorted(PATIENT_RELATIONSHIPS))}"
            )
        if source.subscriber is None:
            problems.append(
                "subscriber: the patient is not the subscriber, and no subscriber is known for this member id "
                "(2010BA NM1 needs the subscriber's name)"
            )
    if claim.frequency_code is not FrequencyCode.ORIGINAL and not claim.original_payer_claim_id:
        problems.append(
            f"original_payer_claim_id: a frequency {claim.frequency_code.value} claim names the original's payer "
            "claim id (REF*F8)"
        )
    if len(claim.diagnosis_codes) > MAX_DIAGNOSES:
        problems.append(
            f"diagnosis_codes: at most {MAX_DIAGNOSES} in an 837P (HI); the claim has {len(claim.diagnosis_codes)}"
        )
    for number, line in enumerate(claim.lines):
        if len(line.modifiers) > MAX_MODIFIERS:
            problems.append(f"lines[{number}].modifiers: at most {MAX_MODIFIERS} in an 837P (SV101)")
        if len(line.diagnosis_pointers) > MAX_POINTERS:
            problems.append(f"lines[{number}].diagnosis_pointers: at most {MAX_POINTERS} in an 837P (SV107)")
        if any(not 1 <= p <= min(len(claim.diagnosis_codes), MAX_DIAGNOSES) for p in line.diagnosis_pointers):
            problems.append(f"lines[{number}].diagnosis_pointers: each points at one of the claim's diagnoses")
    rendering = claim.rendering_provider
    if rendering is not None and rendering.npi != claim.billing_provider.npi and not rendering.name:
        problems.append("rendering_provider.name: the 837P names the rendering provider (2310B NM1)")
    referring = claim.referring_provider
    if referring is not None:
        if not referring.name:
            problems.append(
                "referring_provider.name: the 837P names the referring provider, a person (2310A NM1*DN); "
                'give it as "Last, First"'
            )
        elif len(_person_name(referring.name)[1]) > MAX_FIRST_NAME:
            problems.append(f"referring_provider.name: a first name of at most {MAX_FIRST_NAME} characters (NM104)")
    return problems


def _person_name(name: str) -> tuple[str, str]:
    """(last, first) of a name written "Last, First"; a name without a comma is all last name."""
    last, comma, first = name.partition(",")
    if comma and last.strip() and first.strip():
        return last.strip(), first.strip()
    return name.strip(), ""


def _submitter_and_receiver(writer: SegmentWriter, submitter: SubmitterProfile) -> None:
    writer.add("NM1", "41", "2", submitter.name, None, None, None, None, "46", submitter.identifier, source="submitter")
    contact: list[str | None] = [submitter.contact_name]
    for qualifier, number in (
        ("TE", submitter.contact_phone and digits_only(submitter.contact_phone)),
        ("EM", submitter.contact_email),
    ):
        if number:
            contact += [qualifier, number]
    writer.add("PER", "IC", *contact, source="submitter contact")
    writer.add("NM1", "40", "2", submitter.receiver_name, None, None, None, None, "46", submitter.receiver_id)


def _billing_provider(writer: SegmentWriter, claim: Claim) -> None:
    provider = claim.billing_provider
    writer.add("HL", "1", None, "20", "1")
    writer.add("NM1", "85", "2", provider.name, None, None, None, None, "XX", provider.npi, source="billing_provider")
    assert provider.address is not None  # checked by missing()
    _address(writer, provider.address, "billing_provider.address")
    writer.add("REF", "EI", digits_only(provider.tax_id), source="billing_provider.tax_id")


def _subscriber(writer: SegmentWriter, source: ClaimSource, submitter: SubmitterProfile, is_patient: bool) -> None:
    claim = source.claim
    insurance = claim.insurance
    writer.add("HL", "2", "1", "22", "0" if is_patient else "1")
    group_name = insurance.plan if insurance.group_number is None else None
    writer.add(
        "SBR",
        "P",
        SELF if is_patient else None,
        insurance.group_number,
        group_name,
        None,
        None,
        None,
        None,
        submitter.claim_filing_indicator,
        source="insurance",
    )
    if is_patient:
        person = Subscriber(
            first_name=claim.patient.first_name,
            last_name=claim.patient.last_name,
            date_of_birth=claim.patient.date_of_birth,
            sex=claim.patient.sex,
            address=claim.patient.address,
        )
    else:
        assert source.subscriber is not None  # checked by missing()
        person = source.subscriber
    writer.add(
        "NM1",
        "IL",
        "1",
        person.last_name,
        person.first_name,
        None,
        None,
        None,
        "MI",
        insurance.member_id,
        source="subscriber",
    )
    if person.address is not None:
        _address(writer, person.address, "subscriber address")
    if person.date_of_birth is not None:
        writer.add("DMG", "D8", person.date_of_birth.strftime("%Y%m%d"), person.sex.value if person.sex else "U")
    writer.add("NM1", "PR", "2", source.payer_name, None, None, None, None, "PI", insurance.payer_id, source="payer")


def _patient(writer: SegmentWriter, claim: Claim) -> None:
    patient = claim.patient
    writer.add("HL", "3", "2", "23", "0")
    writer.add("PAT", patient.relationship_to_subscriber)
    writer.add("NM1", "QC", "1", patient.last_name, patient.first_name, source="patient")
    assert patient.address is not None  # checked by missing()
    _address(writer, patient.address, "patient.address")
    writer.add("DMG", "D8", patient.date_of_birth.strftime("%Y%m%d"), patient.sex.value)


def _claim(writer: SegmentWriter, claim: Claim) -> None:
    place = claim.lines[0].place_of_service
    writer.add(
        "CLM",
        claim.patient_control_number,
        amount(claim.total_charge),
        None,
        None,
        (place, "B", claim.frequency_code.value),
        "Y",  # CLM06: the provider's signature is on file
        "A",  # CLM07: assignment accepted
        "Y",  # CLM08: benefits assigned to the provider
        "Y",  # CLM09: release of information signed
        source="claim",
    )
    if claim.frequency_code is not FrequencyCode.ORIGINAL:
        writer.add("REF", "F8", claim.original_payer_claim_id, source="original_payer_claim_id")
    codes = [code.replace(".", "") for code in claim.diagnosis_codes]
    writer.add("HI", ("ABK", codes[0]), *[("ABF", code) for code in codes[1:]], source="diagnosis_codes")
    if claim.referring_provider is not None:
        _referring_provider(writer, claim.referring_provider)
    rendering = claim.rendering_provider
    if rendering is not None and rendering.npi != claim.billing_provider.npi:
        _rendering_provider(writer, rendering)


def _referring_provider(writer: SegmentWriter, provider: Provider) -> None:
    """2310A (before 2310B): the referring provider is always a person (NM102 1), "Last, First" split."""
    assert provider.name is not None  # checked by missing()
    last, first = _person_name(provider.name)
    writer.add("NM1", "DN", "1", last, first or None, None, None, None, "XX", provider.npi, source="referring_provider")


def _rendering_provider(writer: SegmentWriter, provider: Provider) -> None:
    """2310B: a person written "Last, First" is a person (NM102 1); any other name an organisation (NM102 2)."""
    assert provider.name is not None  # checked by missing()
    last, first = _person_name(provider.name)
    if first:
        writer.add("NM1", "82", "1", last, first, None, None, None, "XX", provider.npi, source="rendering_provider")
    else:
        writer.add(
            "NM1", "82", "2", provider.name, None, None, None, None, "XX", provider.npi, source="rendering_provider"
        )


def _service_lines(writer: SegmentWriter, claim: Claim) -> None:
    claim_place = claim.lines[0].place_of_service
    for number, line in enumerate(claim.lines, 1):
        where = f"lines[{number - 1}]"
        writer.add("LX", str(number))
        writer.add(
            "SV1",
            ("HC", line.procedure_code, *line.modifiers),
            amount(line.charge),
            "UN",
            str(line.units),
            None if line.place_of_service == claim_place else line.place_of_service,
            None,
            [str(pointer) for pointer in line.diagnosis_pointers],
            source=where,
        )
        writer.add("DTP", "472", "D8", line.service_date.strftime("%Y%m%d"))
        writer.add("REF", "6R", line.line_control_number, source=f"{where}.line_control_number")


def _address(writer: SegmentWriter, address: Address, where: str) -> None:
    writer.add("N3", address.line1, address.line2, source=where)
    writer.add("N4", address.city, address.state, digits_only(address.postal_code), source=where)
