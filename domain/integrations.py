"""Integrations per organization and payer: which processor and adapter a claim goes through, and the dev defaults."""

from __future__ import annotations

import re
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from domain.errors import ConflictError

#: An integration's id as organizations name it: short, lower case, no spaces.
INTEGRATION_ID = re.compile(r"^[a-z0-9][a-z0-9._-]{0,39}$")
#: A credentials reference names a secret kept elsewhere (a vault path, an env var's name); never the secret itself.
CREDENTIALS_REF = re.compile(r"^[A-Za-z0-9_./:-]{1,200}$")


class Adapter(StrEnum):
    """The dialect an integration speaks: the JSON of the sandbox, or ASC X12 005010 over the CORE envelope."""

    JSON = "json"
    X12 = "x12"


class Integration(BaseModel):
    """One organization's connection to a processor (a clearinghouse); no secret, only a reference to one."""

    model_config = ConfigDict(frozen=True)

    org_id: str
    integration_id: str
    processor: str
    adapter: Adapter
    credentials_ref: str | None = None
    submitter_id: str | None = None
    receiver_id: str | None = None
    enabled: bool = False
    #: Whether the claim's eligibility is checked (270/271) before submission.
    check_eligibility: bool = False
    #: The integration used for a payer that has no route of its own (at most one per organization).
    is_default: bool = False


class IntegrationTemplate(BaseModel):
    """An integration `claimflow dev` gives an organization that has none, with the payers routed to it."""

    model_config = ConfigDict(frozen=True)

    integration_id: str
    processor: str
    adapter: Adapter
    is_default: bool = False
    check_eligibility: bool = False
    payer_ids: list[str] = Field(default_factory=list)


#: The sandbox integrations an organization gets in dev on first use: JSON by default, X12 for SANDBOX-X12. The
#: X12 one checks eligibility (270/271) before each submission; the JSON one does not, so its examples stay as they are.
#: The dev X12 envelope ids (the defaults of CLAIMFLOW_X12_SUBMITTER_ID and _RECEIVER_ID): the sandbox's.
DEV_X12_SUBMITTER_ID = "CLAIMFLOWDEV"
DEV_X12_RECEIVER_ID = "SANDBOXCH"

SANDBOX_INTEGRATIONS: tuple[IntegrationTemplate, ...] = (
    IntegrationTemplate(integration_id="sandbox", processor="sandbox", adapter=Adapter.JSON, is_default=True),
    IntegrationTemplate(
        integration_id="sandbox-x12",
        processor="sandbox",
        adapter=Adapter.X12,
        check_eligibility=True,
        payer_ids=["SANDBOX-X12"],
    ),
)


def resolve(payer_id: str, integrations: list[Integration], routes: dict[str, str]) -> Integration | None:
    """The integration a payer's claim goes through: the payer's route, else the organization's default; None
    when the organization has neither (routes map payer id -> integration id, payer ids upper case)."""
    by_id = {integration.integration_id: integration for integration in integrations}
    routed = routes.get(payer_id.upper())
    if routed is not None and routed in by_id:
        return by_id[routed]
    return next((integration for integration in integrations if integration.is_default), None)


class IntegrationNotEnabledError(ConflictError):
    """The claim's integration is missing or disabled: it cannot be sent yet."""

    code = "integration_not_enabled"


class PayerInactiveError(ConflictError):
    """The payer is marked inactive: claims to it are not sent."""

    code = "payer_inactive"


def check_submittable(payer_id: str, payer_active: bool, integration: Integration | None) -> Integration:
    """The enabled integration the claim is sent through, or the refusal that says what to do."""
    if not payer_active:
        raise PayerInactiveError(
            f"payer {payer_id} is inactive: claims to it are not sent; ask an admin to reactivate the payer"
        )
    if integration is None:
        raise IntegrationNotEnabledError(
            f"no integration routes payer {payer_id} for this organization; an admin adds one "
            f"(POST /v1/organizations/{{org}}/integrations) and enables it, then submit the claim"
        )
    if not integration.enabled:
        raise IntegrationNotEnabledError(
            f"integration {integration.integration_id} (payer {payer_id}) is disabled; an admin enables it "
            f"(PATCH /v1/organizations/{{org}}/integrations/{integration.integration_id}), then submit the claim"
        )
    return integration
