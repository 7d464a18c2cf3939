"""The activity that resolves a claim's integration (payer route, else the organization's default) from the tables."""

from __future__ import annotations

import logging

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio import activity

from activities.contracts import RESOLVE_INTEGRATION, ResolvedIntegration, ResolveIntegrationInput
from activities.x12.interchange import X12Integration, X12NotConfiguredError
from db.uow import UnitOfWork
from domain.errors import DomainError
from domain.integrations import (
    DEV_X12_RECEIVER_ID,
    DEV_X12_SUBMITTER_ID,
    SANDBOX_INTEGRATIONS,
    Adapter,
    Integration,
    check_submittable,
)

log = logging.getLogger(__name__)


def with_envelope_ids(default: X12Integration, integration: Integration | None) -> X12Integration:
    """The X12 envelope and submitter a claim of this integration goes out with: the integration row's
    `submitter_id` (ISA06, GS02, 1000A NM109; the CORE SenderID) and `receiver_id` (ISA08, GS03, 1000B NM109; the
    CORE ReceiverID) over the CLAIMFLOW_X12_* default, which stands where the row leaves them empty (or is not X12).

    An interchange marked as production data (ISA15 P: the default in production) is refused while it would carry a
    dev id: X12NotConfiguredError (final, 409 in the API) names what to set; the ids are not PHI."""
    row = integration if integration is not None and integration.adapter is Adapter.X12 else None
    sender = (row.submitter_id if row else None) or default.envelope.sender_id
    receiver = (row.receiver_id if row else None) or default.envelope.receiver_id
    if default.envelope.usage == "P":
        where = f"integration {row.integration_id}" if row else "the default X12 envelope"
        if sender == DEV_X12_SUBMITTER_ID:
            raise X12NotConfiguredError(
                f"{where} would send production X12 with the dev submitter id: set the integration's submitter_id "
                "or CLAIMFLOW_X12_SUBMITTER_ID"
            )
        if receiver == DEV_X12_RECEIVER_ID:
            raise X12NotConfiguredError(
                f"{where} would send production X12 with the dev receiver id: set the integration's receiver_id "
                "or CLAIMFLOW_X12_RECEIVER_ID"
            )
    if (sender, receiver) == (default.envelope.sender_id, default.envelope.receiver_id):
        return default
    # GS02/GS03 follow the interchange ids (application codes of the default name its own partner, not this one)
    envelope = default.envelope.model_copy(
        update={
            "sender_id": sender,
            "receiver_id": receiver,
            "application_sender_code": None,
            "application_receiver_code": None,
        }
    )
    submitter = default.submitter.model_copy(update={"identifier": sender, "receiver_id": receiver})
    return X12Integration(envelope=envelope, submitter=submitter)


async def x12_of(uow: UnitOfWork, default: X12Integration | None, org_id: str, payer_id: str) -> X12Integration | None:
    """The X12 envelope of the organization's claims to this payer: its resolved integration's ids over `default`
    (None when no X12 envelope is configured)."""
    if default is None:
        return None
    return with_envelope_ids(default, await uow.integrations.resolve(org_id, payer_id))


async def route_of(
    sessions: async_sessionmaker[AsyncSession], org_id: str, payer_id: str, *, auto_provision: bool
) -> tuple[Integration | None, bool]:
    """The organization's integration for the payer (its route, else its default; the sandbox's first, when
    `auto_provision`) and whether the payer is active: what a claim's submission and an eligibility inquiry follow."""
    async with UnitOfWork(sessions) as uow:
        if auto_provision and await uow.integrations.provision(org_id, SANDBOX_INTEGRATIONS):
            await uow.commit()
            log.info("integrations.provisioned", extra={"org_id": org_id})
        integration = await uow.integrations.resolve(org_id, payer_id)
        active = await uow.integrations.payer_active(payer_id)
    return integration, active is not False


class IntegrationActivities:
    """`auto_provision`: an organization with no integration gets the sandbox's, enabled (`claimflow dev` only)."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], *, auto_provision: bool = False) -> None:
        self._sessions = sessions
        self._auto_provision = auto_provision

    @activity.defn(name=RESOLVE_INTEGRATION.name)
    async def resolve_integration(self, input: ResolveIntegrationInput) -> ResolvedIntegration:
        integration, active = await route_of(
            self._sessions, input.org_id, input.payer_id, auto_provision=self._auto_provision
        )
        resolved = ResolvedIntegration(
            integration_id=integration.integration_id if integration else None,
            adapter=integration.adapter if integration else None,
            check_eligibility=integration.check_eligibility if integration else False,
        )
        try:
            check_submittable(input.payer_id, active, integration)
        except DomainError as refusal:
            return resolved.model_copy(update={"refusal": refusal.code})
        return resolved.model_copy(update={"submittable": True})
