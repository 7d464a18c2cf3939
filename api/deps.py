"""Dependencies routes take: the runtime context and the caller."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from typing import Annotated

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from api.auth import AuthError, Principal, Role, SharedSecretTokens, TokenVerifier
from api.errors import NotAuthenticatedError
from api.oidc import OidcConfig, OidcTokens
from api.rate_limit import RateLimiter
from api.webhook_signatures import WebhookVerifier
from services.context import ServiceContext
from services.documents import DocumentConfig
from services.eligibility import EligibilityPort
from services.errors import ForbiddenError
from services.x12 import X12Integration
from workflows.claim_contract import ClaimPolicy

#: Opens the exchange POST /v1/eligibility asks, for the app's lifetime (given the session factory).
EligibilityOpener = Callable[[async_sessionmaker[AsyncSession]], AbstractAsyncContextManager[EligibilityPort]]


@dataclass(frozen=True)
class ApiConfig:
    """What the API needs to know, passed in by the composition root."""

    task_queue: str
    jwt_secret: str
    jwt_issuer: str
    webhook_secret: str
    policy: ClaimPolicy
    #: Signs every update sent to a claim (the workers trust its public key).
    update_signing_key: Ed25519PrivateKey
    max_body_bytes: int = 1_000_000
    #: Serve /docs, /redoc and /openapi.json (CLAIMFLOW_API_DOCS); a production API may turn them off.
    docs: bool = True
    #: How long a request waits for Temporal, SDK retries included; past it the client gets 503 or 504.
    temporal_start_timeout_seconds: float = 10.0  # start a claim's workflow (POST /v1/claims)
    temporal_update_timeout_seconds: float = 15.0  # a decision, cancel or information, until the workflow applied it
    temporal_query_timeout_seconds: float = 5.0  # the live state (GET /v1/claims/{id}) and the readiness check
    temporal_signal_timeout_seconds: float = 5.0  # the processor's webhook wakes a workflow
    #: Verify bearer tokens from this OpenID Connect provider (RS256/ES256, its JWKS) and refuse HS256 tokens signed
    #: with jwt_secret; None: HS256 tokens signed with jwt_secret (dev, tests, `claimflow token`).
    oidc: OidcConfig | None = None
    #: At most this many requests per caller in each window, counted in the database across replicas; 0: no limit.
    rate_limit: int = 0
    rate_limit_window_seconds: float = 60.0
    #: The envelope and submitter of the X12 interchanges the API shows (GET /v1/claims/{id}/x12/837); None: none.
    x12: X12Integration | None = None
    #: The payer exchange behind POST /v1/eligibility (workers/api_config.py); None: eligibility is not offered.
    eligibility: EligibilityOpener | None = None
    #: Where claims' documents are stored, what scans them and the largest taken (workers/api_config.py); None: the
    #: document routes answer 404.
    documents: DocumentConfig | None = None
    #: Webhook deliveries: the longest pause between two attempts at one event, and between two looks for events.
    subscription_retry_max_seconds: float = 300.0
    subscription_poll_seconds: float = 2.0
    #: Whether the workers send e-mail (CLAIMFLOW_SMTP_HOST set): e-mail subscriptions are refused otherwise.
    email_enabled: bool = False
    #: How often an event stream (GET /v1/events) looks for new events, and sends a keep-alive comment.
    event_stream_poll_seconds: float = 0.5
    event_stream_keepalive_seconds: float = 15.0
    #: A stream ends after this long; the client reconnects with Last-Event-ID and misses nothing (SSE's own way).
    event_stream_max_seconds: float = 300.0


@dataclass
class ApiContext(ServiceContext):
    """Held in the app lifespan: the services' context (one Temporal client, one session factory, one code-set
    cache per process) with the API's own configuration."""

    config: ApiConfig
    #: The payer exchange POST /v1/eligibility asks (None: not configured).
    eligibility: EligibilityPort | None = None


async def get_context(request: Request) -> ApiContext:
    context: ApiContext = request.app.state.context
    return context


ContextDep = Annotated[ApiContext, Depends(get_context)]


async def get_webhook_verifier(request: Request) -> WebhookVerifier:
    verifier: WebhookVerifier = request.app.state.webhooks
    return verifier


#: The processor-webhook verifier, one per app (it remembers the signatures it took).
WebhookVerifierDep = Annotated[WebhookVerifier, Depends(get_webhook_verifier)]


def token_verifier(config: ApiConfig) -> TokenVerifier:
    """The OpenID Connect provider's tokens when one is configured, else HS256 tokens signed with the shared secret."""
    if config.oidc is not None:
        return OidcTokens(config.oidc)
    return SharedSecretTokens(secret=config.jwt_secret, issuer=config.jwt_issuer)


async def get_token_verifier(request: Request) -> TokenVerifier:
    verifier: TokenVerifier = request.app.state.tokens
    return verifier


async def get_rate_limiter(request: Request) -> RateLimiter:
    limiter: RateLimiter = request.app.state.rate_limiter
    return limiter


bearer = HTTPBearer(auto_error=False)


async def current_principal(
    request: Request,
    tokens: Annotated[TokenVerifier, Depends(get_token_verifier)],
    limiter: Annotated[RateLimiter, Depends(get_rate_limiter)],
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> Principal:
    """The caller the bearer token names, its request charged to it (or, with no valid token, to its address)."""
    try:
        if credentials is None or credentials.scheme.lower() != "bearer":
            raise NotAuthenticatedError(
                "send 'Authorization: Bearer <token>'; mint a local one with "
                "`claimflow token --role submitter --org ORG`",
                challenge="Bearer",
            )
        try:
            principal = await tokens.verify(credentials.credentials)
        except AuthError as exc:
            raise NotAuthenticatedError(str(exc), challenge='Bearer error="invalid_token"') from exc
    except NotAuthenticatedError:
        await limiter.charge_address(request)  # past the limit: 429, so guessing tokens is throttled too
        raise
    request.state.principal = principal  # a refusal's audit row names the caller (api/refusal_audit.py)
    await limiter.charge_principal(principal)
    return principal


CurrentPrincipal = Annotated[Principal, Depends(current_principal)]


def require(*roles: Role):  # type: ignore[no-untyped-def]
    """A dependency that admits only the given roles."""

    async def check(principal: CurrentPrincipal) -> Principal:
        if principal.role not in roles:
            allowed = ", ".join(r.value for r in roles)
            raise ForbiddenError(f"this needs one of the roles: {allowed}; your token has {principal.role.value}")
        return principal

    return Depends(check)


Admin = Annotated[Principal, require(Role.ADMIN)]
Submitter = Annotated[Principal, require(Role.SUBMITTER, Role.ADMIN)]
Reviewer = Annotated[Principal, require(Role.ADJUSTER, Role.SUPERVISOR)]
Reader = Annotated[Principal, require(Role.SUBMITTER, Role.ADJUSTER, Role.SUPERVISOR, Role.ADMIN)]
Withdrawer = Annotated[Principal, require(Role.SUBMITTER, Role.SUPERVISOR, Role.ADMIN)]
Overseer = Annotated[Principal, require(Role.SUPERVISOR, Role.ADMIN)]
#: A member of an organization acting for it (an admin belongs to none).
OrgMember = Annotated[Principal, require(Role.SUBMITTER)]
