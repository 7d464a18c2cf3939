"""IntegrationRepository: an organization's integrations and payer routes, and the one a claim resolves to."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert

from db.models import IntegrationRoute, IntegrationRow, Payer
from db.repositories.base import Repository
from domain.integrations import Adapter, Integration, IntegrationTemplate, resolve


def to_integration(row: IntegrationRow) -> Integration:
    return Integration(
        org_id=row.org_id,
        integration_id=row.integration_id,
        processor=row.processor,
        adapter=Adapter(row.adapter),
        credentials_ref=row.credentials_ref,
        submitter_id=row.submitter_id,
        receiver_id=row.receiver_id,
        enabled=row.enabled,
        check_eligibility=row.check_eligibility,
        is_default=row.is_default,
    )


class IntegrationRepository(Repository):
    """Flushes, never commits: the caller's unit of work does."""

    async def list(self, org_id: str) -> list[Integration]:
        rows = await self.session.scalars(
            select(IntegrationRow).where(IntegrationRow.org_id == org_id).order_by(IntegrationRow.integration_id)
        )
        return [to_integration(row) for row in rows]

    async def get(self, org_id: str, integration_id: str) -> Integration | None:
        row = await self.session.get(IntegrationRow, (org_id, integration_id), populate_existing=True)
        return None if row is None else to_integration(row)

    async def add(self, integration: Integration) -> bool:
        """Insert it; False (nothing written) when the organization has an integration of that id already."""
        written = await self.session.execute(
            insert(IntegrationRow)
            .values(**integration.model_dump(mode="json"))
            .on_conflict_do_nothing(index_elements=["org_id", "integration_id"])
            .returning(IntegrationRow.integration_id)
        )
        return written.scalar_one_or_none() is not None

    async def change(self, org_id: str, integration_id: str, values: dict[str, Any]) -> Integration | None:
        """Apply the given column values; None when there is no such integration."""
        if values:
            await self.session.execute(
                update(IntegrationRow)
                .where(IntegrationRow.org_id == org_id, IntegrationRow.integration_id == integration_id)
                .values(**values)
            )
        return await self.get(org_id, integration_id)

    async def clear_default(self, org_id: str) -> None:
        """No integration of the organization is its default any more (before another becomes it)."""
        await self.session.execute(
            update(IntegrationRow)
            .where(IntegrationRow.org_id == org_id, IntegrationRow.is_default.is_(True))
            .values(is_default=False)
        )

    async def routes(self, org_id: str) -> dict[str, str]:
        """payer id -> integration id, for the organization."""
        rows = await self.session.execute(
            select(IntegrationRoute.payer_id, IntegrationRoute.integration_id).where(IntegrationRoute.org_id == org_id)
        )
        return {payer_id: integration_id for payer_id, integration_id in rows}

    async def set_route(self, org_id: str, payer_id: str, integration_id: str) -> None:
        statement = insert(IntegrationRoute).values(org_id=org_id, payer_id=payer_id, integration_id=integration_id)
        await self.session.execute(
            statement.on_conflict_do_update(
                index_elements=["org_id", "payer_id"], set_={"integration_id": statement.excluded.integration_id}
            )
        )

    async def payer_active(self, payer_id: str) -> bool | None:
        """Whether the payer is active; None when no payer has that id."""
        row = await self.session.get(Payer, payer_id.upper())
        return None if row is None else row.active

    async def resolve(self, org_id: str, payer_id: str) -> Integration | None:
        """The integration the organization's claims to this payer go through (route, else default), if any."""
        return resolve(payer_id, await self.list(org_id), await self.routes(org_id))

    async def provision(self, org_id: str, templates: tuple[IntegrationTemplate, ...]) -> bool:
        """Give an organization without any integration these (enabled, with their routes); False when it had one.

        Concurrent first claims of one organization write them once: the inserts do nothing on a conflict with
        any unique index — the one-default-per-organization index as well as the id, since the other transaction's
        default row can collide on either.
        """
        if await self.list(org_id):
            return False
        for template in templates:
            integration = Integration(
                org_id=org_id,
                integration_id=template.integration_id,
                processor=template.processor,
                adapter=template.adapter,
                enabled=True,
                check_eligibility=template.check_eligibility,
                is_default=template.is_default,
            )
            await self.session.execute(
                insert(IntegrationRow).values(**integration.model_dump(mode="json")).on_conflict_do_nothing()
            )
        for template in templates:
            for payer_id in template.payer_ids:
                await self.session.execute(
                    insert(IntegrationRoute)
                    .values(org_id=org_id, payer_id=payer_id, integration_id=template.integration_id)
                    .on_conflict_do_nothing(index_elements=["org_id", "payer_id"])
                )
        return True
