"""The integration tables as the application's role uses them: routes before the default, the dev provisioning
(once, even when two first claims race), and the activity that resolves a claim's integration."""

from __future__ import annotations

import asyncio
import uuid

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from temporalio.testing import ActivityEnvironment

from activities.contracts import ResolvedIntegration, ResolveIntegrationInput
from activities.integrations import IntegrationActivities
from db.uow import UnitOfWork
from domain.integrations import SANDBOX_INTEGRATIONS, Adapter, Integration


def new_org() -> str:
    return f"org-{uuid.uuid4().hex[:10]}"


async def resolve(
    sessions: async_sessionmaker[AsyncSession], org: str, payer: str, *, auto: bool = False
) -> ResolvedIntegration:
    activities = IntegrationActivities(sessions, auto_provision=auto)
    return await ActivityEnvironment().run(
        activities.resolve_integration, ResolveIntegrationInput(claim_id="c" * 32, org_id=org, payer_id=payer)
    )


async def test_a_payer_route_wins_over_the_default_and_the_default_takes_the_rest(
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    org = new_org()
    async with UnitOfWork(session_factory) as uow:
        assert await uow.integrations.resolve(org, "SANDBOX") is None
        await uow.integrations.add(
            Integration(org_id=org, integration_id="main", processor="inmediata", adapter=Adapter.X12, is_default=True)
        )
        await uow.integrations.add(
            Integration(org_id=org, integration_id="json", processor="sandbox", adapter=Adapter.JSON, enabled=True)
        )
        await uow.integrations.set_route(org, "SANDBOX", "json")
        await uow.commit()
    async with UnitOfWork(session_factory) as uow:
        routed = await uow.integrations.resolve(org, "sandbox")
        default = await uow.integrations.resolve(org, "ACMEHLTH")
    assert routed is not None and (routed.integration_id, routed.adapter) == ("json", Adapter.JSON)
    assert default is not None and (default.integration_id, default.enabled) == ("main", False)


async def test_without_auto_provisioning_an_organization_without_integrations_is_not_submittable(
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    org = new_org()
    resolved = await resolve(session_factory, org, "SANDBOX")
    assert resolved == ResolvedIntegration(refusal="integration_not_enabled")
    async with UnitOfWork(session_factory) as uow:
        assert await uow.integrations.list(org) == []


async def test_auto_provisioning_gives_the_sandbox_integrations_json_by_default_and_x12_for_sandbox_x12(
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    org = new_org()
    json = await resolve(session_factory, org, "SANDBOX", auto=True)
    x12 = await resolve(session_factory, org, "sandbox-x12", auto=True)
    assert (json.integration_id, json.adapter, json.submittable) == ("sandbox", Adapter.JSON, True)
    assert (x12.integration_id, x12.adapter, x12.submittable) == ("sandbox-x12", Adapter.X12, True)


async def test_two_first_claims_at_once_provision_the_organization_once(
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    """Both see no integration and insert; neither fails on either unique index (id, one default per org).

    Eight organizations race at once: a single pair interleaves the inserts only now and then.
    """
    orgs = [new_org() for _ in range(8)]

    async def provision(org: str) -> bool:
        async with UnitOfWork(session_factory) as uow:
            wrote = await uow.integrations.provision(org, SANDBOX_INTEGRATIONS)
            await uow.commit()
            return wrote

    await asyncio.gather(*(provision(org) for org in orgs for _ in range(2)))
    for org in orgs:
        async with UnitOfWork(session_factory) as uow:
            found = await uow.integrations.list(org)
            routes = await uow.integrations.routes(org)
            assert not await uow.integrations.provision(org, SANDBOX_INTEGRATIONS)  # it has integrations now
        assert [(item.integration_id, item.enabled, item.is_default) for item in found] == [
            ("sandbox", True, True),
            ("sandbox-x12", True, False),
        ]
        assert routes == {"SANDBOX-X12": "sandbox-x12"}


async def test_provisioning_waits_out_another_transactions_default_and_does_not_fail_on_it(
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    """The window the race above hits only now and then, forced: another transaction has inserted a default
    (uncommitted, so provisioning sees no integration) under another id. Provisioning's default collides on the
    one-default index, not the id, and is skipped once that commits; the rest is written."""
    org = new_org()
    async with UnitOfWork(session_factory) as admin:
        await admin.integrations.add(
            Integration(org_id=org, integration_id="admin-made", processor="p", adapter=Adapter.JSON, is_default=True)
        )

        async def provision() -> bool:
            async with UnitOfWork(session_factory) as uow:
                wrote = await uow.integrations.provision(org, SANDBOX_INTEGRATIONS)
                await uow.commit()
                return wrote

        provisioning = asyncio.create_task(provision())
        await asyncio.sleep(0.5)  # provisioning has read nothing and waits on the default index
        assert not provisioning.done()
        await admin.commit()
    assert await provisioning
    async with UnitOfWork(session_factory) as uow:
        found = await uow.integrations.list(org)
    assert [(item.integration_id, item.is_default) for item in found] == [("admin-made", True), ("sandbox-x12", False)]


async def test_an_inactive_payer_is_not_submittable_even_with_an_enabled_integration(
    session_factory: async_sessionmaker[AsyncSession], owner_engine: AsyncEngine
) -> None:
    payer = f"OLD{uuid.uuid4().hex[:6].upper()}"
    async with owner_engine.begin() as connection:
        await connection.execute(
            text("INSERT INTO payer (payer_id, name, active) VALUES (:id, 'Closed plan (fictional)', false)"),
            {"id": payer},
        )
    resolved = await resolve(session_factory, new_org(), payer, auto=True)
    assert (resolved.integration_id, resolved.submittable, resolved.refusal) == ("sandbox", False, "payer_inactive")


async def test_one_default_per_organization(session_factory: async_sessionmaker[AsyncSession]) -> None:
    """The partial unique index holds even if a caller forgets to clear the old default first."""
    org = new_org()
    async with UnitOfWork(session_factory) as uow:
        await uow.integrations.add(
            Integration(org_id=org, integration_id="a", processor="p", adapter=Adapter.JSON, is_default=True)
        )
        with pytest.raises(IntegrityError, match="uq_integration_default_per_org"):
            await uow.integrations.add(
                Integration(org_id=org, integration_id="b", processor="p", adapter=Adapter.JSON, is_default=True)
            )
