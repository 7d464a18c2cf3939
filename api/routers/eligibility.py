"""/v1/eligibility: ask the member's payer about coverage (a 270/271 exchange through the organization's integration).

The route parses, authorises, calls services.eligibility and shapes the answer.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter

from api.auth import Principal, Role
from api.deps import ContextDep, require
from api.schemas.eligibility import EligibilityInquiry, EligibilityRead
from services import eligibility

router = APIRouter(prefix="/v1/eligibility", tags=["eligibility"])

#: Submitters only: the inquiry and its answer are a member's health-plan data, needed to bill, by nobody else.
Biller = Annotated[Principal, require(Role.SUBMITTER)]


@router.post(
    "",
    response_model=EligibilityRead,
    responses={
        403: {"description": "Only a submitter may ask: the answer is the member's plan data"},
        409: {"description": "No enabled integration routes this payer for your organization, or it is inactive"},
        422: {"description": "A field breaks a rule (named in `errors`), or the payer is unknown"},
        502: {"description": "The payer refused the inquiry or its answer could not be read"},
        503: {"description": "The payer's processor did not answer; retry after `Retry-After` seconds"},
    },
)
async def check_eligibility(body: EligibilityInquiry, principal: Biller, context: ContextDep) -> EligibilityRead:
    """Whether the member is covered for the service type on the service date: active or not, the plan, copay,
    coinsurance, deductible and what remains of it, out-of-pocket remaining, in-network, prior authorisation, and
    which demographics (name, date of birth, member id) the payer's record disagrees with. Real time; audited
    without PHI."""
    result = await eligibility.check_eligibility(context, principal, body, context.eligibility)
    return EligibilityRead.of(result)
