"""The API and the claim worker inside the benchmark's own process: the API over ASGI, the worker on a fresh task queue."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import httpx
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.client import Client

from api.app import create_app
from api.auth import Role, mint_token
from api.deps import ApiConfig
from bench.harness import BENCH_POLICY, ISSUER, WEBHOOK_SECRET
from workers.settings import DEV_JWT_SECRET
from workers.worker import claim_worker
from workflows.claim_contract import ClaimPolicy


@dataclass
class Stack:
    """The API's client (with a submitter's token in `headers`) and the task queue its worker polls."""

    api: httpx.AsyncClient
    task_queue: str
    headers: dict[str, str]

    async def submit(self, body: dict[str, Any], *, key: str | None = None) -> str:
        """POST a claim; its claim id (anything but 202 is an error)."""
        headers = {**self.headers, **({"Idempotency-Key": key} if key else {})}
        response = await self.api.post("/v1/claims", json=body, headers=headers)
        if response.status_code != 202:
            raise RuntimeError(f"POST /v1/claims answered {response.status_code}: {response.text}")
        claim_id: str = response.json()["claim_id"]
        return claim_id

    async def read(self, claim_id: str) -> dict[str, Any]:
        response = await self.api.get(f"/v1/claims/{claim_id}", headers=self.headers)
        response.raise_for_status()
        claim: dict[str, Any] = response.json()
        return claim


@asynccontextmanager
async def running_stack(
    temporal: Client,
    sessions: async_sessionmaker[AsyncSession],
    sandbox_url: str,
    *,
    policy: ClaimPolicy = BENCH_POLICY,
) -> AsyncIterator[Stack]:
    """The API app and a claim worker on a fresh task queue, both talking to `temporal`; stopped on exit."""
    task_queue = f"claims-{uuid.uuid4().hex[:8]}"
    signing_key = Ed25519PrivateKey.generate()  # the API signs its updates, the worker trusts its public key
    config = ApiConfig(
        task_queue=task_queue,
        jwt_secret=DEV_JWT_SECRET,
        jwt_issuer=ISSUER,
        webhook_secret=WEBHOOK_SECRET,
        policy=policy,
        update_signing_key=signing_key,
    )

    async def connect() -> Client:
        return temporal

    app = create_app(config, connect, sessions)
    token = mint_token(
        sub="bench", role=Role.SUBMITTER, org="bench", secret=DEV_JWT_SECRET, issuer=ISSUER, ttl=timedelta(hours=6)
    )
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://claimflow.bench", timeout=30) as api,
        claim_worker(
            temporal,
            sessions,
            task_queue=task_queue,
            processor_url=sandbox_url,
            trusted_update_keys=[signing_key.public_key()],
            auto_integrations=True,
        ) as worker,
    ):
        running = asyncio.create_task(worker.run())
        try:
            yield Stack(api=api, task_queue=task_queue, headers={"Authorization": f"Bearer {token}"})
        finally:
            await worker.shutdown()
            await running
