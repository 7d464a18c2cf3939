"""Fixtures for the sandbox tests."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from tests.sandbox.sandbox_testkit import open_sandbox


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    """A fresh in-memory sandbox (step_seconds 0) and a client for it."""
    async with open_sandbox() as sandbox_client:
        yield sandbox_client
