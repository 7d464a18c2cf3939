"""The activity that resolves a claim's integration (payer route, else the organization's default) from the tables."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio import activity

from activities.contracts import RESOLVE_INTEGRATION, ResolvedIntegration, ResolveIntegrationInput
from db.uow import UnitOfWork
from domain.errors import DomainError
from domain.integrations import SANDBOX_INTEGRATIONS, check_submittable


class IntegrationActivities:
    """`auto_provision`: an organization with no integration gets the sandbox's, enabled (`claimflow dev` only)."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], *, auto_provision: bool = False) -> None:
        self._sessions = sessions
        self._auto_provision = auto_provision

    @activity.defn(name=RESOLVE_INTEGRATION.name)
    async def resolve_integration(self, input: ResolveIntegrationInput) -> ResolvedIntegration:
        async with UnitOfWork(self._sessions) as uow:
            if self._auto_provision and await uow.integrations.provision(input.org_id, SANDBOX_INTEGRATIONS):
                await uow.commit()
                activity.logger.info("integrations.provisioned", extra={"org_id": input.org_id})
            integration = await uow.integrations.resolve(input.org_id, input.payer_id)
            active = await uow.integrations.payer_active(input.payer_id)
        resolved = ResolvedIntegration(
            integration_id=integration.integration_id if integration else None,
            adapter=integration.adapter if integration else None,
            check_eligibility=integration.check_eligibility if integration else False,
        )
        try:
            check_submittable(input.payer_id, active is not False, integration)
        except DomainError as refusal:
            return resolved.model_copy(update={"refusal": refusal.code})
        return resolved.model_copy(update={"submittable": True})
