"""The Temporal server is killed (-9) mid-run and started again on its file: the worker and the API
reconnect by themselves, a claim posted while it is down is taken on retry, and every claim completes once."""

from __future__ import annotations

import asyncio
import contextlib
import signal
import uuid
from pathlib import Path

import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.service import RetryConfig

from tests.drills.conftest import drill_on, served_api, within
from tests.support.drill_claims import FINAL, assert_clean, claims, post_claim, rows, settle, submit_all
from tests.support.stack import auth, free_port
from workers.temporal_server import temporal_dev_server

DOWN_SECONDS = 3


@within(150)
async def test_temporal_server_killed_and_restarted_mid_run(
    sessions: async_sessionmaker[AsyncSession], database_url: str, drill_sandbox: str, tmp_path: Path
) -> None:
    port = free_port()
    server_files = {"port": port, "ui_port": None, "db_file": tmp_path / "temporal.db"}
    async with contextlib.AsyncExitStack() as servers:
        server = await servers.enter_async_context(
            temporal_dev_server(**server_files, log_file=tmp_path / "temporal-1.log")  # type: ignore[arg-type]
        )
        temporal = await Client.connect(f"127.0.0.1:{port}", data_converter=pydantic_data_converter)
        async with drill_on(temporal, sessions, database_url, drill_sandbox, tmp_path) as drill:
            api_port = free_port()
            drill.start_worker()
            await drill.serve_api(api_port)
            headers = drill.stack.headers
            async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{api_port}", timeout=30) as api:
                batch = claims(["M", "PART", "DENY", "SLOW", "M", "PART", "M", "DENY"])
                await submit_all(api, headers, batch[:6], stagger=0.2)

                registered = await rows(sessions, "SELECT status FROM claim WHERE org_id = :org", org=drill.org)
                moving = [r.status for r in registered if r.status not in FINAL]
                assert len(moving) >= 3, f"too few claims mid-run to kill the server under: {moving}"
                server.send_signal(signal.SIGKILL)
                await asyncio.to_thread(server.wait, 10)
                # Down: a claim posted now is recorded and waits on its workflow's start; reads still answer.
                posted = asyncio.create_task(post_claim(api, headers, batch[6]))
                async with httpx.AsyncClient(base_url=api.base_url, timeout=30) as reader:
                    read = asyncio.create_task(reader.get(f"/v1/claims/{batch[0].claim_id}", headers=headers))
                    await asyncio.sleep(DOWN_SECONDS)
                    await servers.enter_async_context(
                        temporal_dev_server(**server_files, log_file=tmp_path / "temporal-2.log")  # type: ignore[arg-type]
                    )
                    assert (await asyncio.wait_for(read, 30)).status_code == 200
                # The API's client either got the start through once the server was back (202) or gave up (5xx).
                with contextlib.suppress(httpx.TransportError):
                    answer = await asyncio.wait_for(posted, 30)
                    assert answer.status_code == 202 or answer.status_code >= 500, answer.text
                await submit_all(api, headers, batch[6:])  # batch[6] retried under its key
                finals = await settle(api, headers, batch, timeout=90)
            await assert_clean(
                sessions=sessions,
                temporal=temporal,
                ledger=await drill.ledger(),
                org=drill.org,
                batch=batch,
                finals=finals,
            )


@within(60)
async def test_api_answers_503_problem_json_while_temporal_is_down(sessions: async_sessionmaker[AsyncSession]) -> None:
    """README: "Errors are problem JSON". The claim is recorded but its workflow cannot start: a 503 tells the
    client to retry with its key (which then works, as the drill above shows), a bare 500 does not."""
    nowhere = await Client.connect(
        f"127.0.0.1:{free_port()}",
        lazy=True,
        data_converter=pydantic_data_converter,
        retry_config=RetryConfig(max_retries=1, max_elapsed_time_millis=1000),  # give up fast; same error
    )

    [claim] = claims(["M"])
    async with served_api(nowhere, sessions) as api:
        response = await post_claim(api, auth(org=f"drill-{uuid.uuid4().hex[:8]}"), claim)
    assert response.headers["content-type"].startswith("application/problem+json"), (
        f"HTTP {response.status_code} {response.headers['content-type']}: {response.text!r}"
    )
    assert response.status_code == 503, response.text
