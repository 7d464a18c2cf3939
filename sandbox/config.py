"""SandboxConfig: how one sandbox processor instance is set up."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

DEFAULT_WEBHOOK_SECRET = "claimflow-local-webhook-secret"


class SandboxConfig(BaseModel):
    """Settings for one sandbox instance (in-memory when data_path is None)."""

    model_config = ConfigDict(frozen=True)

    data_path: Path | None = None
    step_seconds: float = Field(default=0.0, ge=0)
    webhook_secret: str = DEFAULT_WEBHOOK_SECRET
    seed: int | None = None
    #: A CA (PEM) to trust, besides the system's, when delivering webhooks to an https:// callback.
    webhook_ca_file: Path | None = None
