"""/v1/webhooks: the processor tells us a claim moved, so its workflow polls now."""

from __future__ import annotations

import hashlib
import hmac
from typing import Annotated

from fastapi import APIRouter, Header, Request, status

from api.deps import ContextDep
from api.errors import NotAuthenticatedError
from api.schemas.claims import ProcessorWebhook
from services import claims

router = APIRouter(prefix="/v1/webhooks", tags=["webhooks"])


def signature_ok(secret: str, body: bytes, signature: str | None) -> bool:
    expected = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return signature is not None and hmac.compare_digest(expected, signature)


@router.post(
    "/processor/{claim_id}", status_code=status.HTTP_202_ACCEPTED, responses={401: {"description": "Bad signature"}}
)
async def processor_webhook(
    claim_id: str,
    request: Request,
    context: ContextDep,
    signature: Annotated[str | None, Header(alias="X-Sandbox-Signature")] = None,
) -> dict[str, str]:
    """Signed with HMAC-SHA256 of the body; wakes the claim's workflow to poll at once."""
    body = await request.body()
    if not signature_ok(context.config.webhook_secret, body, signature):
        raise NotAuthenticatedError("the webhook signature does not match the body")
    notice = ProcessorWebhook.model_validate_json(body)
    await claims.notify(context, claim_id, notice.payer_claim_id, notice.category)
    return {"status": "accepted"}
