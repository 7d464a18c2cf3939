"""The OpenAPI document and its pages are served by default and can be turned off (CLAIMFLOW_API_DOCS=false)."""

from __future__ import annotations

from dataclasses import replace

import httpx
import pytest

from api.app import create_app
from api.deps import ApiConfig
from tests.support.stack import config_for_tests

CONFIG = config_for_tests()


async def status_of(config: ApiConfig, path: str) -> int:
    async def no_temporal() -> object:
        raise AssertionError("not needed")

    app = create_app(config, no_temporal, None)  # type: ignore[arg-type]  # these routes touch neither
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://api") as client:
        return (await client.get(path)).status_code


@pytest.mark.parametrize("path", ["/docs", "/redoc", "/openapi.json"])
async def test_docs_are_served_by_default_and_gone_when_turned_off(path: str) -> None:
    assert await status_of(CONFIG, path) == 200
    assert await status_of(replace(CONFIG, docs=False), path) == 404
