"""What every use case works with: the Temporal client, the database sessions, the code sets and the limits."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.client import Client

from db.code_sets import CodeSetCache
from workflows.claim_contract import ClaimPolicy


class WorkflowConfig(Protocol):
    """Where claims' workflows run and how long a use case waits for Temporal (SDK retries included)."""

    @property
    def task_queue(self) -> str: ...

    @property
    def policy(self) -> ClaimPolicy: ...

    @property
    def update_signing_key(self) -> Ed25519PrivateKey: ...

    @property
    def temporal_start_timeout_seconds(self) -> float: ...

    @property
    def temporal_update_timeout_seconds(self) -> float: ...

    @property
    def temporal_query_timeout_seconds(self) -> float: ...

    @property
    def temporal_signal_timeout_seconds(self) -> float: ...


@dataclass
class ServiceContext:
    """Held for the whole process: one Temporal client, one session factory, one code-set cache."""

    config: WorkflowConfig
    temporal: Client
    sessions: async_sessionmaker[AsyncSession]
    code_sets: CodeSetCache = field(default_factory=CodeSetCache)
