"""A running claimflow stack for tests: a worker on a fresh task queue, the API in-process, real HTTP to the sandbox."""

from __future__ import annotations

import asyncio
import socket
import tempfile
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from opentelemetry.sdk.trace import TracerProvider
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.client import Client

from activities.mailer import Mailer
from api.app import create_app
from api.auth import Role, mint_token
from api.deps import ApiConfig
from services.documents import DocumentConfig
from services.metrics import ClaimMetricsConfig
from services.storage.filesystem import FilesystemDocumentStore
from workers.api_config import eligibility_exchange, x12_integration
from workers.settings import Settings
from workers.worker import claim_worker
from workflows.claim_contract import ClaimPolicy

JWT_SECRET = "test-secret-for-claimflow-tests-0123456789"
JWT_ISSUER = "claimflow"
WEBHOOK_SECRET = "test-webhook-secret"
#: The API's update-signing key in tests; the workers trust its public key (processes started by tests: its file).
UPDATE_SIGNING_KEY = Ed25519PrivateKey.generate()
TRUSTED_UPDATE_KEYS = [UPDATE_SIGNING_KEY.public_key()]

#: Where the test stacks store documents: shared by every run (content-addressed, so sharing is harmless).
TEST_DOCUMENTS = Path(tempfile.gettempdir()) / "claimflow-test-documents"

#: Fast timings for tests on the real dev server; time-skipping tests use the real defaults.
FAST_POLICY = ClaimPolicy(
    auto_approve_limit=Decimal("1000.00"),
    poll_initial=timedelta(milliseconds=100),
    poll_max=timedelta(seconds=1),
    poll_deadline=timedelta(seconds=60),
    review_sla=timedelta(hours=48),
)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def token(role: Role, sub: str = "tester", org: str | None = "org-test") -> str:
    return mint_token(sub=sub, role=role, org=org, secret=JWT_SECRET, issuer=JWT_ISSUER, ttl=timedelta(hours=1))


def auth(role: Role = Role.SUBMITTER, sub: str = "tester", org: str | None = "org-test") -> dict[str, str]:
    return {"Authorization": f"Bearer {token(role, sub, org)}"}


@dataclass
class Stack:
    api: httpx.AsyncClient
    temporal: Client
    sandbox_url: str
    task_queue: str
    sessions: async_sessionmaker[AsyncSession]
    org: str = "org-test"
    headers: dict[str, str] = field(default_factory=dict)

    async def submit(self, body: dict[str, Any], *, key: str | None = None) -> str:
        headers = dict(self.headers)
        if key:
            headers["Idempotency-Key"] = key
        response = await self.api.post("/v1/claims", json=body, headers=headers)
        assert response.status_code == 202, response.text
        claim_id: str = response.json()["claim_id"]
        return claim_id

    async def read(self, claim_id: str, headers: dict[str, str] | None = None) -> dict[str, Any]:
        response = await self.api.get(f"/v1/claims/{claim_id}", headers=headers or self.headers)
        assert response.status_code == 200, response.text
        data: dict[str, Any] = response.json()
        return data

    async def wait_for(
        self, claim_id: str, *statuses: str, timeout: float = 30.0, headers: dict[str, str] | None = None
    ) -> dict[str, Any]:
        """Poll the API until the claim reaches one of the statuses."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            claim = await self.read(claim_id, headers)
            if claim["status"] in statuses:
                return claim
            if loop.time() > deadline:
                raise AssertionError(f"claim {claim_id} is {claim['status']}, not {statuses}, after {timeout}s")
            await asyncio.sleep(0.1)

    async def ledger_for(self, claim_id: str) -> list[dict[str, Any]]:
        async with httpx.AsyncClient() as http:
            ledger = (await http.get(f"{self.sandbox_url}/_sandbox/ledger")).json()
        return [entry for entry in ledger["claims"] if entry["claim_id"] == claim_id]


def config_for_tests(**overrides: Any) -> ApiConfig:
    """The API's configuration for tests: the tests' keys and fast policy, a task queue of its own; `overrides`
    replace any field."""
    values: dict[str, Any] = {
        "task_queue": f"claims-{uuid.uuid4().hex[:8]}",
        "jwt_secret": JWT_SECRET,
        "jwt_issuer": JWT_ISSUER,
        "webhook_secret": WEBHOOK_SECRET,
        "policy": FAST_POLICY,
        "update_signing_key": UPDATE_SIGNING_KEY,
        "x12": x12_integration(Settings(_env_file=None)),  # the dev envelope and submitter (CLAIMFLOW_X12_*)
        "documents": DocumentConfig(store=FilesystemDocumentStore(TEST_DOCUMENTS)),
        # webhook deliveries retried within a second, subscriptions and streams looking often
        "subscription_retry_max_seconds": 1.0,
        "subscription_poll_seconds": 0.2,
        "event_stream_poll_seconds": 0.1,
    }
    return ApiConfig(**{**values, **overrides})


@asynccontextmanager
async def running_stack(
    temporal: Client,
    sessions: async_sessionmaker[AsyncSession],
    sandbox_url: str,
    *,
    policy: ClaimPolicy = FAST_POLICY,
    with_worker: bool = True,
    claim_metrics: ClaimMetricsConfig | None = None,
    tracer_provider: TracerProvider | None = None,
    mailer: Mailer | None = None,
    **config_overrides: Any,
) -> AsyncIterator[Stack]:
    """A worker on a fresh task queue and the API app talking to it. `tracer_provider`: the API's request spans and
    the worker's HTTP client spans (pass `temporal` a client traced into the same provider); default the global.
    `mailer`: the worker sends e-mail through it (and the API takes e-mail subscriptions). `config_overrides`: any
    other field of the API's configuration."""
    config = config_for_tests(
        policy=policy,
        email_enabled=mailer is not None,
        **config_overrides,
        eligibility=eligibility_exchange(
            sandbox_url, x12=x12_integration(Settings(_env_file=None)), auto_provision=True
        ),
    )
    task_queue = config.task_queue

    async def connect() -> Client:
        return temporal

    app = create_app(config, connect, sessions, claim_metrics=claim_metrics, tracer_provider=tracer_provider)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://claimflow.test", timeout=30) as api,
    ):
        stack = Stack(
            api=api,
            temporal=temporal,
            sandbox_url=sandbox_url,
            task_queue=task_queue,
            sessions=sessions,
            headers=auth(),
        )
        if not with_worker:
            yield stack
            return
        async with claim_worker(
            temporal,
            sessions,
            task_queue=task_queue,
            processor_url=sandbox_url,
            trusted_update_keys=TRUSTED_UPDATE_KEYS,
            x12=x12_integration(Settings(_env_file=None)),  # payers ending in -X12 speak X12 over the CORE envelope
            auto_integrations=True,  # an organization without integrations gets the sandbox's: JSON, X12 for SANDBOX-X12
            tracer_provider=tracer_provider,
            mailer=mailer,
        ) as worker:
            task = asyncio.create_task(worker.run())
            try:
                yield stack
            finally:
                await worker.shutdown()
                await task
