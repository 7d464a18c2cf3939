"""X12 use cases: the 837P interchange of a claim, generated once from its snapshot and shown as it was written.

The 837P carries the patient's name, date of birth and address: only a submitter of the claim's organization (the
full projection, api/presenters.py) may read it. Every read is audited (`claim.x12.read`).
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from activities.integrations import x12_of
from activities.x12.claim_837p import SubmitterProfile
from activities.x12.envelope import Envelope
from activities.x12.interchange import (
    TRANSACTION_837P,
    ClaimIncompleteError,
    ClaimNotSnapshottedError,
    X12Integration,
    X12NotConfiguredError,
    new_837p,
)
from db.repositories.x12 import InterchangeRecord
from db.uow import UnitOfWork
from services.access import Principal
from services.claims import visible_record
from services.context import ServiceContext

__all__ = [
    "ClaimIncompleteError",
    "ClaimNotSnapshottedError",
    "Envelope",
    "SubmitterProfile",
    "X12Integration",
    "X12NotConfiguredError",
    "read_837p",
]


async def read_837p(
    context: ServiceContext, principal: Principal, claim_id: str, integration: X12Integration | None
) -> InterchangeRecord:
    """The claim's 837P interchange: the stored one, or one generated now (with the next control number) and
    stored, so every later read returns the same bytes. The read is audited in the same transaction.
    `integration` is the default envelope: the claim's resolved integration's ids go over it, as when it is sent."""
    async with UnitOfWork(context.sessions) as uow:
        record = await visible_record(uow, principal, claim_id)
        interchange = await uow.x12.get(record.claim_id, TRANSACTION_837P)
        generated = interchange is None
        if interchange is None:  # generated now with the envelope it would be sent with
            envelope = await x12_of(uow, integration, record.org_id, record.claim.insurance.payer_id)
            interchange = await new_837p(uow, record, envelope)
        await uow.audit.append(
            claim_id=record.claim_id,
            actor=principal.label,
            action="claim.x12.read",
            at=datetime.now(UTC),
            # control numbers only: the body holds PHI
            details={
                "transaction_set": TRANSACTION_837P,
                "interchange_control_number": interchange.interchange_control_number,
                "generated": generated,
            },
            event_key=f"x12-read-{uuid.uuid4().hex}",
        )
        await uow.commit()
    return interchange
