"""/v1/organizations/{org_id}/integrations: an organization's integrations and payer routes (admins only)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Response, status

from api.deps import Admin, ContextDep
from api.schemas.integrations import (
    IntegrationCreate,
    IntegrationList,
    IntegrationRead,
    IntegrationUpdate,
    PayerRoute,
    PayerRouteSet,
)
from domain.integrations import Integration
from services import integrations

router = APIRouter(prefix="/v1/organizations/{org_id}", tags=["integrations"])
OrgId = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._:\-]+$")]
IntegrationId = Annotated[str, Path(min_length=1, max_length=40)]
PayerId = Annotated[str, Path(min_length=1, max_length=30, pattern=r"^[A-Za-z0-9._\-]+$")]

PROBLEMS: dict[int | str, dict[str, object]] = {
    401: {"description": "No or an invalid bearer token"},
    403: {"description": "Admins only"},
}


def _read(integration: Integration) -> IntegrationRead:
    return IntegrationRead.model_validate(integration.model_dump())


@router.get("/integrations", response_model=IntegrationList, responses=PROBLEMS)
async def list_integrations(org_id: OrgId, principal: Admin, context: ContextDep) -> IntegrationList:
    """The organization's integrations and payer routes. Audited."""
    found, routes = await integrations.list_integrations(context, principal, org_id)
    return IntegrationList(
        org_id=org_id,
        data=[_read(integration) for integration in found],
        routes=[PayerRoute(payer_id=payer, integration_id=target) for payer, target in sorted(routes.items())],
    )


@router.post(
    "/integrations",
    status_code=status.HTTP_201_CREATED,
    response_model=IntegrationRead,
    responses={**PROBLEMS, 409: {"description": "Exists"}, 422: {}},
)
async def create_integration(
    org_id: OrgId, body: IntegrationCreate, principal: Admin, context: ContextDep, response: Response
) -> IntegrationRead:
    """Add an integration (disabled unless `enabled`); `is_default` makes it the one for payers without a route."""
    integration = Integration(org_id=org_id, **body.model_dump())
    created = await integrations.create_integration(context, principal, integration)
    response.headers["Location"] = f"/v1/organizations/{org_id}/integrations/{created.integration_id}"
    return _read(created)


@router.patch(
    "/integrations/{integration_id}",
    response_model=IntegrationRead,
    responses={**PROBLEMS, 404: {"description": "No such integration"}, 422: {}},
)
async def update_integration(
    org_id: OrgId, integration_id: IntegrationId, body: IntegrationUpdate, principal: Admin, context: ContextDep
) -> IntegrationRead:
    """Change an integration: enable or disable it, its adapter, envelope ids, credentials reference, default."""
    changes = body.model_dump(exclude_unset=True)
    return _read(await integrations.update_integration(context, principal, org_id, integration_id, changes))


@router.put(
    "/payer-routes/{payer_id}",
    response_model=PayerRoute,
    responses={**PROBLEMS, 404: {"description": "No such payer"}, 422: {}},
)
async def set_payer_route(
    org_id: OrgId, payer_id: PayerId, body: PayerRouteSet, principal: Admin, context: ContextDep
) -> PayerRoute:
    """Send the organization's claims to this payer through one of its integrations."""
    payer, target = await integrations.set_route(context, principal, org_id, payer_id, body.integration_id)
    return PayerRoute(payer_id=payer, integration_id=target)
