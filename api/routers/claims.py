"""/v1/claims: submit, read, list, decide, cancel, provide information, correct and void.

Each route parses, authorises, calls one use case of services.claims and shapes its answer.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Query, Response, status

from api.deps import ContextDep, Overseer, Reader, Reviewer, Submitter, Withdrawer
from api.disconnect import even_if_client_leaves
from api.presenters import present, present_summary, projection_of
from api.schemas.claims import (
    CancelRequest,
    ClaimAccepted,
    ClaimPage,
    ClaimRead,
    InformationRequest,
    ReassignRequest,
    ValidationResult,
    VoidRequest,
)
from domain.claim import Claim
from domain.decision import Decision
from domain.status import ClaimStatus
from services import claims, corrections
from workflows.claim_contract import UpdateResult, workflow_id

router = APIRouter(prefix="/v1/claims", tags=["claims"])

PROBLEMS: dict[int | str, dict[str, object]] = {
    401: {"description": "No or an invalid bearer token"},
    403: {"description": "The token's role may not do this"},
    404: {"description": "No such claim that you can see"},
}

#: What a route that waits for the claim's workflow may also answer.
WAITS: dict[int | str, dict[str, object]] = {
    503: {"description": "The workflow service could not be reached; see Retry-After"},
    504: {"description": "The workflow did not finish in time; it may still apply the change: GET the claim"},
}

IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        min_length=1,
        max_length=200,
        pattern=r"^[A-Za-z0-9._:\-]+$",
        description="Retry-safe submission: the same key and body return the same claim",
    ),
]


@router.post(
    "",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=ClaimAccepted,
    responses={
        **PROBLEMS,
        409: {"description": "Idempotency-Key reused with another body"},
        413: {},
        422: {},
        503: WAITS[503],
    },
)
async def submit_claim(
    claim: Claim,
    principal: Submitter,
    context: ContextDep,
    response: Response,
    idempotency_key: IdempotencyKey = None,
) -> ClaimAccepted:
    """Submit a claim: it is recorded, then its workflow starts. Answers 202; follow the Location."""
    # Once its intake began, a submission runs to its end even if the client leaves, so a recorded
    # claim is not left without its workflow.
    submission = await even_if_client_leaves(claims.submit(context, principal, claim, idempotency_key))
    return _accepted(submission, response)


@router.post("/validate", response_model=ValidationResult, responses=PROBLEMS)
async def validate_claim(claim: Claim, principal: Submitter, context: ContextDep) -> ValidationResult:
    """Run every edit on a claim, as the workflow would, without starting anything or writing any row."""
    report = await claims.validate(context, principal, claim)
    return ValidationResult(valid=report.valid, errors=report.errors, warnings=report.warnings)


@router.get("", response_model=ClaimPage, responses={**PROBLEMS, 400: {"description": "Bad cursor"}})
async def list_claims(
    principal: Reader,
    context: ContextDep,
    status_: Annotated[ClaimStatus | None, Query(alias="status")] = None,
    payer_id: Annotated[str | None, Query(max_length=30)] = None,
    adjuster: Annotated[str | None, Query(max_length=100)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: Annotated[str | None, Query(max_length=500)] = None,
) -> ClaimPage:
    """The claims you may see, newest first, filtered: a submitter its organization's, an adjuster those assigned to
    them, a supervisor its team's (and claims in review nobody is assigned), an admin all; each in your role's
    projection. Every listing is audited."""
    page = await claims.list_claims(
        context,
        principal,
        status=status_,
        payer_id=payer_id,
        adjuster=adjuster,
        limit=limit,
        cursor=cursor,
    )
    items = [present_summary(item, principal) for item in page.items]
    return ClaimPage(projection=projection_of(principal), data=items, count=len(items), next_cursor=page.next_cursor)


@router.get("/{claim_id}", response_model=ClaimRead, responses=PROBLEMS)
async def read_claim(claim_id: str, principal: Reader, context: ContextDep) -> ClaimRead:
    """The claim's snapshot with its live state: status, history, adjudication, adjuster, errors; in your role's
    projection (fields your role may not see are null). A claim outside what you may see is 404. Audited."""
    return present(await claims.read(context, principal, claim_id), principal)


@router.post(
    "/{claim_id}/decision",
    response_model=UpdateResult,
    responses={
        **PROBLEMS,
        **WAITS,
        409: {"description": "Wrong state or not assigned to you"},
        422: {"description": "Decision breaks a rule"},
    },
)
async def decide(claim_id: str, decision: Decision, principal: Reviewer, context: ContextDep) -> UpdateResult:
    """An adjuster's decision on a claim in review: approve, deny, partial, request_info. An approval above your
    authority limit is recorded as a recommendation (`awaiting_second_approval`) and goes to a supervisor, who
    confirms it (`confirm`), changes it (approve or partial), denies it or asks for information; the one who
    recommended cannot also approve (four eyes)."""
    return await claims.decide(context, principal, claim_id, decision)


@router.post(
    "/{claim_id}/reassign",
    response_model=UpdateResult,
    responses={
        **PROBLEMS,
        **WAITS,
        409: {"description": "Not in review or waiting for information, already assigned to them, or no one else"},
        422: {"description": "No such adjuster, or not active"},
    },
)
async def reassign(claim_id: str, body: ReassignRequest, principal: Overseer, context: ContextDep) -> UpdateResult:
    """A supervisor hands a claim in review (or waiting for information) to another adjuster, with a reason; the
    review SLA starts again for them. Without `adjuster_id` the assignment rules choose anyone but the current one."""
    return await claims.reassign(context, principal, claim_id, body.adjuster_id, body.reason)


@router.post(
    "/{claim_id}/cancel",
    response_model=UpdateResult,
    responses={
        **PROBLEMS,
        **WAITS,
        409: {"description": "Final, approved, or the processor has it (withdraw it with a void claim)"},
        422: {},
    },
)
async def cancel(
    claim_id: str, principal: Withdrawer, context: ContextDep, body: CancelRequest | None = None
) -> UpdateResult:
    """Withdraw a claim before it is submitted, or while it waits for an adjuster or for information."""
    return await claims.cancel(context, principal, claim_id, (body or CancelRequest()).reason)


@router.post(
    "/{claim_id}/submit",
    response_model=UpdateResult,
    responses={
        **PROBLEMS,
        **WAITS,
        409: {"description": "Not ready, already submitted, its integration not enabled or its payer inactive"},
    },
)
async def submit_ready(claim_id: str, principal: Submitter, context: ContextDep) -> UpdateResult:
    """Send a claim that waits in `ready` (valid, but its organization had no enabled integration for the payer) once
    its integration is enabled; it is sent once, however often this is called."""
    return await claims.submit_ready(context, principal, claim_id)


@router.post(
    "/{claim_id}/information",
    response_model=UpdateResult,
    responses={**PROBLEMS, **WAITS, 409: {"description": "Not requested"}},
)
async def provide_information(
    claim_id: str, body: InformationRequest, principal: Submitter, context: ContextDep
) -> UpdateResult:
    """Answer an adjuster's request for information with a note, documents uploaded to the claim (their ids), or
    both; when the adjuster named document types, the answer must attach one of each (422 names the missing). The
    claim goes back to review."""
    return await claims.provide_information(context, principal, claim_id, body.note, body.document_ids)


LINKED: dict[int | str, dict[str, object]] = {
    **PROBLEMS,
    409: {
        "description": "The original has no payer claim id, is not closed or denied, already has a replacement or "
        "void, or the Idempotency-Key was used with another body"
    },
    422: {},
    503: WAITS[503],
}


def _accepted(submission: claims.Submission, response: Response) -> ClaimAccepted:
    """202's body and headers for a recorded claim: its Location, and whether a retry found it."""
    response.headers["Location"] = f"/v1/claims/{submission.claim_id}"
    if not submission.created:
        response.headers["Idempotent-Replayed"] = "true"
    return ClaimAccepted(
        claim_id=submission.claim_id, status=submission.status, workflow_id=workflow_id(submission.claim_id)
    )


@router.post(
    "/{claim_id}/corrections", status_code=status.HTTP_202_ACCEPTED, response_model=ClaimAccepted, responses=LINKED
)
async def correct_claim(
    claim_id: str,
    claim: Claim,
    principal: Submitter,
    context: ContextDep,
    response: Response,
    idempotency_key: IdempotencyKey = None,
) -> ClaimAccepted:
    """Send a corrected claim (frequency 7) for a closed or denied claim of your organization: the body is the whole
    claim as it should have been; it names the original's payer claim id, and the original shows `replaced` once the
    payer accepts it. Answers 202 with the new claim; follow the Location."""
    submission = await even_if_client_leaves(corrections.correct(context, principal, claim_id, claim, idempotency_key))
    return _accepted(submission, response)


@router.post("/{claim_id}/void", status_code=status.HTTP_202_ACCEPTED, response_model=ClaimAccepted, responses=LINKED)
async def void_claim(
    claim_id: str,
    principal: Submitter,
    context: ContextDep,
    response: Response,
    body: VoidRequest | None = None,
    idempotency_key: IdempotencyKey = None,
) -> ClaimAccepted:
    """Withdraw a closed or denied claim of your organization with a void claim (frequency 8) naming its payer claim
    id; the original shows `voided` once the payer accepts it, and what it was paid is reversed in its ledger.
    Answers 202 with the void claim; follow the Location."""
    reason = (body or VoidRequest()).reason
    submission = await even_if_client_leaves(corrections.void(context, principal, claim_id, reason, idempotency_key))
    return _accepted(submission, response)
