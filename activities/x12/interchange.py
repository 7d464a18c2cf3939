"""A claim's 837P interchange, generated once from its snapshot and stored: what the API shows and what is sent.

Moved here from services/x12.py so the submission activity and `GET /v1/claims/{id}/x12/837` share one generator
(and one x12_interchange row): the bytes a biller inspects are the bytes the processor received.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from activities.x12.claim_837p import ClaimSource, SubmitterProfile, Subscriber, claim_837p
from activities.x12.envelope import ControlNumbers, Envelope
from activities.x12.writer import X12ValueError
from db.records import ClaimRecord
from db.repositories.x12 import InterchangeRecord
from db.uow import UnitOfWork
from domain.claim import Claim, Provider, Sex
from domain.errors import ConflictError
from domain.status import is_final

#: The transaction set this module writes, as x12_interchange names it.
TRANSACTION_837P = "837P"


@dataclass(frozen=True)
class X12Integration:
    """Who sends a claim's interchange to whom: the envelope and the submitter (CLAIMFLOW_X12_* settings, until
    integrations are kept per organization and payer)."""

    envelope: Envelope
    submitter: SubmitterProfile


class X12NotConfiguredError(ConflictError):
    """No X12 integration is configured, so no interchange can be addressed."""

    code = "x12_not_configured"


class ClaimNotSnapshottedError(ConflictError):
    """The claim has no snapshot (not validated yet, or invalid): nothing would be sent."""

    code = "x12_claim_not_ready"


class ClaimIncompleteError(ConflictError):
    """The claim lacks what an 837P requires (an address, a subscriber's name, …) or exceeds its limits."""

    code = "x12_claim_incomplete"


async def stored_or_new_837p(
    uow: UnitOfWork, record: ClaimRecord, integration: X12Integration | None
) -> tuple[InterchangeRecord, bool]:
    """(the claim's 837P interchange, whether it was generated now): the stored one, or one generated with the next
    control number and stored (the caller commits), so every later read or resend carries the same bytes."""
    interchange = await uow.x12.get(record.claim_id, TRANSACTION_837P)
    if interchange is not None:
        return interchange, False
    return await new_837p(uow, record, integration), True


async def new_837p(uow: UnitOfWork, record: ClaimRecord, integration: X12Integration | None) -> InterchangeRecord:
    """The claim's 837P generated with the next control number and stored (the caller commits); one stored meanwhile
    by another is returned instead."""
    if integration is None:
        raise X12NotConfiguredError(
            "no X12 integration is configured: set the CLAIMFLOW_X12_* settings (submitter and receiver ids)"
        )
    if record.snapshot_version is None:
        if is_final(record.status):
            raise ClaimNotSnapshottedError(
                f"the claim is {record.status.value} and was never validated, so it is never sent and has no 837P"
            )
        raise ClaimNotSnapshottedError(
            f"the claim is {record.status.value} and not yet validated: its 837P exists once it is; retry shortly"
        )
    source = await claim_source(uow, record)
    number = await uow.x12.next_control_number()
    control = ControlNumbers.from_sequence(number)
    created_at = datetime.now(UTC)
    try:
        body = claim_837p(
            source,
            submitter=integration.submitter,
            envelope=integration.envelope,
            control=control,
            created_at=created_at,
        )
    except X12ValueError as exc:
        raise ClaimIncompleteError(
            f"the claim cannot be written as an 837P: {exc}. Send a corrected claim with what is missing"
        ) from None
    return await uow.x12.add_once(
        InterchangeRecord(
            claim_id=record.claim_id,
            transaction_set=TRANSACTION_837P,
            interchange_control_number=control.interchange,
            group_control_number=control.group,
            transaction_control_number=control.transaction,
            body=body,
            created_at=created_at,
        )
    )


async def claim_source(uow: UnitOfWork, record: ClaimRecord) -> ClaimSource:
    """The claim as submitted (its snapshot's source), with what reference data adds: the payer's name, the
    rendering and referring providers' names when the claim gives only their NPI, the subscriber when the patient
    is not."""
    claim = record.claim
    payer_name = await uow.x12.payer_name(claim.insurance.payer_id)
    if payer_name is None:
        raise ClaimIncompleteError(
            f"payer {claim.insurance.payer_id} is not in the payer table: the 837P names the payer (2010BB NM1)"
        )
    claim = await _with_provider_names(uow, claim)
    return ClaimSource(
        claim_id=record.claim_id, claim=claim, payer_name=payer_name, subscriber=await _subscriber(uow, claim)
    )


async def _with_provider_names(uow: UnitOfWork, claim: Claim) -> Claim:
    """The rendering and referring providers the claim gives by NPI only, named from reference data if known."""
    named: dict[str, Provider] = {}
    for role in ("rendering_provider", "referring_provider"):
        provider: Provider | None = getattr(claim, role)
        if provider is None or provider.name:
            continue
        known = await uow.reference.get_provider(provider.npi)
        if known is not None and known.name:
            named[role] = Provider(npi=provider.npi, name=known.name)
    return claim.model_copy(update=named) if named else claim


async def _subscriber(uow: UnitOfWork, claim: Claim) -> Subscriber | None:
    """When the patient is not the subscriber: the one other person reference data insures under the member id."""
    patient = claim.patient
    if patient.relationship_to_subscriber == "18":
        return None
    others = [
        person
        for person in await uow.x12.members(claim.insurance.payer_id, claim.insurance.member_id)
        if (person.first_name, person.last_name, person.date_of_birth)
        != (patient.first_name, patient.last_name, patient.date_of_birth)
    ]
    if len(others) != 1:
        return None  # none, or several: not known (the generator says what is missing)
    person = others[0]
    return Subscriber(
        first_name=person.first_name,
        last_name=person.last_name,
        date_of_birth=person.date_of_birth,
        sex=next((sex for sex in Sex if sex.value == person.sex), None),
    )
