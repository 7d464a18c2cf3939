"""Integration shapes: one integration, the bodies that add or change one, a payer route, an organization's list."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, StringConstraints

from domain.integrations import Adapter

Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=60)]
EnvelopeId = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=15)]
Reference = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]


class IntegrationRead(BaseModel):
    org_id: str
    integration_id: str
    processor: str
    adapter: Adapter
    #: The name of the secret (kept elsewhere) the integration authenticates with; never the secret.
    credentials_ref: str | None
    submitter_id: str | None
    receiver_id: str | None
    enabled: bool
    check_eligibility: bool
    is_default: bool


class IntegrationCreate(BaseModel):
    """A new integration of the organization; disabled unless `enabled` is true."""

    model_config = ConfigDict(extra="forbid")

    integration_id: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=40)]
    processor: Name
    adapter: Adapter
    credentials_ref: Reference | None = None
    submitter_id: EnvelopeId | None = None
    receiver_id: EnvelopeId | None = None
    enabled: bool = False
    check_eligibility: bool = False
    is_default: bool = False


class IntegrationUpdate(BaseModel):
    """Fields to change; only those sent are changed (enable or disable with `enabled`)."""

    model_config = ConfigDict(extra="forbid")

    processor: Name | None = None
    adapter: Adapter | None = None
    credentials_ref: Reference | None = None
    submitter_id: EnvelopeId | None = None
    receiver_id: EnvelopeId | None = None
    enabled: bool | None = None
    check_eligibility: bool | None = None
    is_default: bool | None = None


class PayerRoute(BaseModel):
    payer_id: str
    integration_id: str


class PayerRouteSet(BaseModel):
    model_config = ConfigDict(extra="forbid")

    integration_id: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=40)]


class IntegrationList(BaseModel):
    """An organization's integrations and its payers' routes (a payer without one goes to the default)."""

    org_id: str
    data: list[IntegrationRead]
    routes: list[PayerRoute]
