"""What the end-to-end tests share: an environment for a `claimflow dev` of their own (free ports, a temp data dir)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.support.stack import free_port


@pytest.fixture
def dev_env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CLAIMFLOW_")}
    temporal, ui, api, sandbox, database = free_port(), free_port(), free_port(), free_port(), free_port()
    env.update(
        CLAIMFLOW_DATA_DIR=str(tmp_path / "data"),
        CLAIMFLOW_TEMPORAL_ADDRESS=f"127.0.0.1:{temporal}",
        CLAIMFLOW_TEMPORAL_UI_PORT=str(ui),
        CLAIMFLOW_API_PORT=str(api),
        CLAIMFLOW_SANDBOX_PORT=str(sandbox),
        CLAIMFLOW_EMBEDDED_DATABASE_PORT=str(database),
        CLAIMFLOW_PROCESSOR_URL=f"http://127.0.0.1:{sandbox}",
        CLAIMFLOW_POLL_INITIAL_SECONDS="0.5",
    )
    return env
