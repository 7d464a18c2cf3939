"""Integration use cases (admins): list, add and change an organization's integrations and its payers' routes.

Every change is audited with the ids and flags it set; a credentials reference is a name, and even that is left
out of the audit details (only whether one is set).
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.exc import IntegrityError

from db.uow import UnitOfWork
from domain.errors import ConflictError
from domain.integrations import CREDENTIALS_REF, INTEGRATION_ID, Integration
from services.access import Principal
from services.context import ServiceContext
from services.errors import InvalidFieldError, NotFoundError

#: Fields an admin may change on an integration.
CHANGEABLE = (
    "processor",
    "adapter",
    "credentials_ref",
    "submitter_id",
    "receiver_id",
    "enabled",
    "check_eligibility",
    "is_default",
)


class IntegrationExistsError(ConflictError):
    """The organization has an integration of that id already."""

    code = "integration_exists"


async def list_integrations(
    context: ServiceContext, principal: Principal, org_id: str
) -> tuple[list[Integration], dict[str, str]]:
    """The organization's integrations and its payer routes (payer id -> integration id); the listing is audited."""
    async with UnitOfWork(context.sessions) as uow:
        integrations = await uow.integrations.list(org_id)
        routes = await uow.integrations.routes(org_id)
        await _audit(uow, principal, "integrations.list", org_id, {"count": len(integrations)})
        await uow.commit()
    return integrations, routes


async def create_integration(context: ServiceContext, principal: Principal, integration: Integration) -> Integration:
    """Add an integration (disabled unless `enabled` is sent); one marked default replaces the previous default."""
    _check_ids(integration.integration_id, integration.credentials_ref)
    async with UnitOfWork(context.sessions) as uow:
        if integration.is_default:
            await uow.integrations.clear_default(integration.org_id)
        if not await uow.integrations.add(integration):
            raise IntegrationExistsError(
                f"organization {integration.org_id} has an integration {integration.integration_id} already; change it "
                f"with PATCH /v1/organizations/{integration.org_id}/integrations/{integration.integration_id}"
            )
        await _audit(
            uow, principal, "integration.created", integration.org_id, _safe(integration.model_dump(mode="json"))
        )
        await uow.commit()
    return integration


async def update_integration(
    context: ServiceContext, principal: Principal, org_id: str, integration_id: str, changes: dict[str, Any]
) -> Integration:
    """Change the fields in `changes` (enable or disable, adapter, ids, default); audited."""
    changes = {name: value for name, value in changes.items() if name in CHANGEABLE}
    if "credentials_ref" in changes:
        _check_ids(integration_id, changes["credentials_ref"])
    for name in ("processor", "adapter", "enabled", "check_eligibility", "is_default"):
        if name in changes and changes[name] is None:
            raise InvalidFieldError(
                f"{name} may be left out but not set to null", path=name, problem="null", rule="integration.required"
            )
    async with UnitOfWork(context.sessions) as uow:
        if await uow.integrations.get(org_id, integration_id) is None:
            raise NotFoundError(f"organization {org_id} has no integration {integration_id}")
        if changes.get("is_default"):
            await uow.integrations.clear_default(org_id)
        values = {name: (value.value if hasattr(value, "value") else value) for name, value in changes.items()}
        updated = await uow.integrations.change(org_id, integration_id, values)
        assert updated is not None
        details = {"integration_id": integration_id, "changes": _safe(values)}
        await _audit(uow, principal, "integration.updated", org_id, details)
        await uow.commit()
    return updated


async def set_route(
    context: ServiceContext, principal: Principal, org_id: str, payer_id: str, integration_id: str
) -> tuple[str, str]:
    """Route the organization's claims to a payer through one of its integrations; (payer id, integration id)."""
    payer = payer_id.strip().upper()
    async with UnitOfWork(context.sessions) as uow:
        if await uow.integrations.get(org_id, integration_id) is None:
            raise InvalidFieldError(
                f"organization {org_id} has no integration {integration_id}",
                path="integration_id",
                problem="no such integration of this organization",
                rule="integration.exists",
            )
        if await uow.integrations.payer_active(payer) is None:
            raise NotFoundError(f"no payer {payer}")
        try:
            await uow.integrations.set_route(org_id, payer, integration_id)
        except IntegrityError as exc:
            raise NotFoundError(f"no payer {payer}") from exc
        await _audit(
            uow, principal, "integration.route_set", org_id, {"payer_id": payer, "integration_id": integration_id}
        )
        await uow.commit()
    return payer, integration_id


def _check_ids(integration_id: str, credentials_ref: str | None) -> None:
    if INTEGRATION_ID.fullmatch(integration_id) is None:
        raise InvalidFieldError(
            f"integration_id {integration_id!r} is not an id",
            path="integration_id",
            problem="1-40 lower-case letters, digits, '.', '_' or '-', starting with a letter or digit",
            rule="integration.id",
        )
    if credentials_ref is not None and CREDENTIALS_REF.fullmatch(credentials_ref) is None:
        raise InvalidFieldError(
            "credentials_ref is not a reference",
            path="credentials_ref",
            problem="the name of a secret kept elsewhere (letters, digits, _ . / : -), never the secret itself",
            rule="integration.credentials_ref",
        )


def _safe(values: dict[str, Any]) -> dict[str, Any]:
    """What an audit entry keeps of an integration: no credentials reference, only whether one is set."""
    kept = {name: value for name, value in values.items() if name != "credentials_ref"}
    if "credentials_ref" in values:
        kept["credentials_ref_set"] = values["credentials_ref"] is not None
    return kept


async def _audit(uow: UnitOfWork, principal: Principal, action: str, org_id: str, details: dict[str, Any]) -> None:
    await uow.audit.append(
        claim_id=None,
        actor=principal.label,
        action=action,
        at=datetime.now(UTC),
        details={"org_id": org_id, **details},
        event_key=f"{action}-{uuid.uuid4().hex}",
    )
