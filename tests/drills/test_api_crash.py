"""The API is killed (-9) while a POST /v1/claims is in flight, at several moments; the client retries with its
Idempotency-Key until 202 (from the restarted API, at the same address): each key is one claim row, one workflow,
one submission, and every claim completes."""

from __future__ import annotations

import asyncio
import random
import signal
import subprocess
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any

import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.service import RPCError

from services.claims import claim_id_for
from tests.drills.conftest import Drill, proxied_url, within
from tests.support.drill_claims import DrillClaim, assert_clean, claims, post_claim, rows, settle, submit_all
from tests.support.stack import free_port
from tests.support.tcp_proxy import TcpProxy, tcp_proxy

#: Each round trip to PostgreSQL and to Temporal takes this much longer, so a POST stays in flight ~2 s.
DB_DELAY = 0.1
TEMPORAL_DELAY = 0.3


@dataclass
class ApiUnderTest:
    drill: Drill
    port: int
    env: dict[str, str]
    process: subprocess.Popen[bytes] | None = None

    async def start(self) -> None:
        self.process = await self.drill.serve_api(self.port, **self.env)

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)


@within(180)
async def test_api_killed_mid_post_and_the_retry_with_the_same_key_makes_one_claim(
    drill: Drill, sessions: async_sessionmaker[AsyncSession], database_url: str, db_proxy: TcpProxy
) -> None:
    temporal = drill.stack.temporal
    host, _, temporal_port = temporal.service_client.config.target_host.rpartition(":")
    drill.start_worker()
    async with tcp_proxy(host, int(temporal_port)) as temporal_proxy:
        env = {
            "CLAIMFLOW_DATABASE_URL": proxied_url(database_url, db_proxy),
            "CLAIMFLOW_TEMPORAL_ADDRESS": f"127.0.0.1:{temporal_proxy.port}",
        }
        # The client speaks to one address; behind it, each killed API process is followed by a fresh one
        # (started up front: a start takes seconds, a kill does not).
        servers = [ApiUnderTest(drill, free_port(), env) for _ in range(4)]
        await asyncio.gather(*(s.start() for s in servers))
        server = servers[0]
        headers = drill.stack.headers
        batch = claims(["M", "PART", "DENY", "M", "PART", "DENY"])

        async def registered(claim: DrillClaim) -> bool:
            found = await rows(
                sessions,
                "SELECT claim_id FROM claim WHERE org_id = :org AND idempotency_key = :key",
                org=drill.org,
                key=claim.key,
            )
            return bool(found)

        async def started(claim: DrillClaim) -> bool:
            try:
                await temporal.get_workflow_handle(f"claim-{claim_id_for(drill.org, claim.key)}").describe()
                return True
            except RPCError:
                return False

        def kill_when_sent(statement: bytes) -> Callable[[DrillClaim], Coroutine[Any, Any, None]]:
            """Kill the API the moment `statement` has gone to PostgreSQL."""

            async def arm(claim: DrillClaim) -> None:
                sent = asyncio.Event()

                def watch(chunk: bytes) -> None:
                    if statement in chunk and not sent.is_set():
                        server.kill()
                        sent.set()

                db_proxy.watch = watch
                try:
                    await asyncio.wait_for(sent.wait(), 20)
                finally:
                    db_proxy.watch = None

            return arm

        async def kill_once_started(claim: DrillClaim) -> None:
            """Kill the API once Temporal has the workflow, before its reply is back through the slow link."""
            async with asyncio.timeout(20):
                while True:  # poll Temporal; there is nothing to wait on
                    if await started(claim):
                        break
                    await asyncio.sleep(0.02)
            server.kill()

        # Kill at three moments of one POST (what must hold straight after: claim row recorded? workflow started?),
        # each time with a second POST sent a seeded while later, so it dies somewhere else in the request.
        moments: list[tuple[Callable[[DrillClaim], Coroutine[Any, Any, None]], bool, bool]] = [
            (kill_when_sent(b"INSERT INTO claim ("), False, False),  # the intake's transaction is open
            # The COMMIT message itself (NUL-terminated): "BEGIN ISOLATION LEVEL READ COMMITTED" is no commit.
            (kill_when_sent(b"COMMIT\x00"), True, False),  # the intake is committed, no workflow yet
            (kill_once_started, True, True),  # the workflow runs, the 202 is not back yet
        ]
        rng = random.Random(20261123)
        async with (
            tcp_proxy("127.0.0.1", server.port) as front,
            httpx.AsyncClient(base_url=f"http://127.0.0.1:{front.port}", timeout=30) as api,
        ):
            for n, (kill, recorded, running) in enumerate(moments):
                first, second = batch[2 * n], batch[2 * n + 1]
                db_proxy.delay, temporal_proxy.delay = DB_DELAY, TEMPORAL_DELAY
                posts = [asyncio.create_task(post_claim(api, headers, first))]
                killed = asyncio.create_task(kill(first))
                await asyncio.sleep(rng.uniform(0.05, 0.6))
                posts.append(asyncio.create_task(post_claim(api, headers, second)))
                await killed
                assert server.process is not None
                await asyncio.to_thread(server.process.wait, 10)
                answers = await asyncio.gather(*posts, return_exceptions=True)
                db_proxy.delay, temporal_proxy.delay = 0.0, 0.0
                assert all(isinstance(a, httpx.TransportError) for a in answers), f"a POST was answered: {answers}"
                await asyncio.sleep(0.5)  # PostgreSQL has noticed the dead connections (and rolled back or not)
                assert await registered(first) is recorded
                assert await started(first) is running

                server = servers[n + 1]  # the restarted API
                front.target = ("127.0.0.1", server.port)
                await submit_all(api, headers, [first, second])  # the client's retries, same keys and bodies
                for claim in (first, second):
                    replay = await post_claim(api, headers, claim)
                    assert replay.status_code == 202 and replay.headers.get("Idempotent-Replayed") == "true"
            finals = await settle(api, headers, batch, timeout=90)
    await assert_clean(
        sessions=sessions, temporal=temporal, ledger=await drill.ledger(), org=drill.org, batch=batch, finals=finals
    )
