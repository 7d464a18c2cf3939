"""The activity that resolves a claim's integration (payer route, else the organization's default) from the tables."""

from __future__ import annotations

import logging

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio import activity

from activities.contracts import RESOLVE_INTEGRATION, ResolvedIntegration, ResolveIntegrationInput
from db.uow import UnitOfWork
from domain.errors import DomainError
from domain.integrations import SANDBOX_INTEGRATIONS, Integration, check_submittable

log = logging.getLogger(__name__)


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
