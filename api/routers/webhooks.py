"""/v1/webhooks: the processor tells us a claim moved, so its workflow polls now."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Request, status
from pydantic import ValidationError

from api.deps import ContextDep, WebhookVerifierDep
from api.errors import NotAuthenticatedError
from api.schemas.claims import ProcessorWebhook
from api.webhook_signatures import SIGNATURE_HEADER, TIMESTAMP_HEADER, WebhookRefused
from services import claims
from services.errors import InvalidFieldError

router = APIRouter(prefix="/v1/webhooks", tags=["webhooks"])


@router.post(
    "/processor/{claim_id}",
    status_code=status.HTTP_202_ACCEPTED,
    responses={401: {"description": "Bad, stale or replayed signature"}, 422: {"description": "Signed, but no notice"}},
)
async def processor_webhook(
    claim_id: str,
    request: Request,
    context: ContextDep,
    verifier: WebhookVerifierDep,
    timestamp: Annotated[str | None, Header(alias=TIMESTAMP_HEADER)] = None,
    signature: Annotated[str | None, Header(alias=SIGNATURE_HEADER)] = None,
) -> dict[str, str]:
    """Signed with HMAC-SHA256 of timestamp, path and body (fresh, used once); wakes the claim's workflow to poll."""
    body = await request.body()
    try:
        verifier.verify(timestamp=timestamp, signature=signature, path=request.url.path, body=body)
    except WebhookRefused as refused:
        raise NotAuthenticatedError(str(refused)) from None
    try:
        notice = ProcessorWebhook.model_validate_json(body)
    except ValidationError:
        raise InvalidFieldError(
            "the webhook is signed but is not a notice",
            path="body",
            problem="send {payer_claim_id, category} as JSON",
            rule="webhook.shape",
        ) from None
    await claims.notify(context, claim_id, notice.payer_claim_id, notice.category)
    return {"status": "accepted"}
