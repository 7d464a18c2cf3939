"""A stack per test module: worker on a fresh task queue plus the API in-process."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.client import Client

from tests.support.stack import Stack, running_stack


@pytest.fixture(scope="module")
async def stack(temporal: Client, sessions: async_sessionmaker[AsyncSession], sandbox_url: str) -> AsyncIterator[Stack]:
    async with running_stack(temporal, sessions, sandbox_url) as running:
        yield running
