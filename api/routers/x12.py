"""/v1/claims/{claim_id}/x12/…: the X12 interchanges of a claim, as they were (or would be) sent.

The route parses, authorises, calls services.x12 and answers the interchange's bytes as `application/edi-x12`.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Response

from api.auth import Principal, Role
from api.deps import ContextDep, require
from services import x12

EDI_X12 = "application/edi-x12"

router = APIRouter(prefix="/v1/claims", tags=["x12"])

#: Only a submitter of the claim's organization: the 837P names the patient and their address, which the other
#: roles' projections leave out (api/presenters.py).
Biller = Annotated[Principal, require(Role.SUBMITTER)]


class X12Response(Response):
    """An X12 interchange."""

    media_type = EDI_X12


@router.get(
    "/{claim_id}/x12/837",
    response_class=X12Response,
    responses={
        200: {
            "description": "The 837P interchange (005010X222A1), the same bytes on every read",
            "content": {EDI_X12: {"schema": {"type": "string"}}},
        },
        403: {"description": "Only a submitter may read an 837P: it carries the patient's name and address"},
        404: {"description": "No such claim that you can see"},
        409: {
            "description": "No 837P: the claim is not validated yet or invalid, lacks what an 837P requires "
            "(the detail says what), or no X12 integration is configured"
        },
    },
)
async def read_837p(claim_id: str, principal: Biller, context: ContextDep) -> X12Response:
    """The claim's 837P professional claim in its interchange, as it was (or would be) sent: generated once, from
    the claim's snapshot, with control numbers that never repeat; every later read returns the same bytes.
    Audited."""
    interchange = await x12.read_837p(context, principal, claim_id, context.config.x12)
    return X12Response(
        content=interchange.body,
        headers={
            "Content-Disposition": f'attachment; filename="claim-{interchange.claim_id}-837P.x12"',
        },
    )
