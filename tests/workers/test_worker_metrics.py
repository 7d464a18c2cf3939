"""The worker's metrics port: the Temporal SDK's own metrics in Prometheus form, from a real worker's claims."""

from __future__ import annotations

import contextlib
import logging
import socket

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.client import Client

from tests.api.test_claim_lifecycle import member
from tests.support.stack import free_port, running_stack
from workers.settings import ConfigurationError, Settings
from workers.telemetry import DEV_WORKER_METRICS_ADDRESS, worker_metrics_address, worker_runtime
from workers.temporal_client import connect


async def test_the_worker_metrics_port_serves_the_sdks_workflow_and_activity_metrics_after_a_claim(
    temporal: Client, sessions: async_sessionmaker[AsyncSession], sandbox_url: str
) -> None:
    address = f"127.0.0.1:{free_port()}"
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None,
        temporal_address=temporal.service_client.config.target_host,
        temporal_namespace=temporal.namespace,
        worker_metrics_address=address,
    )
    client = await connect(settings, runtime=worker_runtime(settings))  # as `claimflow worker` connects

    async with running_stack(client, sessions, sandbox_url) as stack:
        claim_id = await stack.submit(member("M"))
        await stack.wait_for(claim_id, "closed")
        async with httpx.AsyncClient() as http:
            response = await http.get(f"http://{address}/metrics")

    assert response.status_code == 200
    lines = [line for line in response.text.splitlines() if not line.startswith("#")]
    queue = f'task_queue="{stack.task_queue}"'

    def series(name: str, *labels: str) -> list[str]:
        return [line for line in lines if line.startswith(name) and all(label in line for label in labels)]

    assert series("temporal_workflow_completed", queue, 'workflow_type="ClaimWorkflow"')
    assert series("temporal_activity_execution_latency", queue, 'activity_type="submit_claim"')
    assert series("temporal_worker_task_slots_available", queue)
    assert claim_id not in response.text


def test_an_empty_worker_metrics_address_serves_nothing_and_a_malformed_one_is_refused_by_name() -> None:
    assert worker_runtime(Settings(_env_file=None, worker_metrics_address="")) is None  # type: ignore[call-arg]
    assert worker_runtime(Settings(_env_file=None, worker_metrics_address=""), dev=True) is None  # type: ignore[call-arg]
    with pytest.raises(ConfigurationError, match="CLAIMFLOW_WORKER_METRICS_ADDRESS must be host:port"):
        worker_runtime(Settings(_env_file=None, worker_metrics_address="9464"))  # type: ignore[call-arg]


def test_unset_the_dev_stack_serves_worker_metrics_on_loopback_and_claimflow_worker_does_not() -> None:
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    assert worker_metrics_address(settings, dev=True) == DEV_WORKER_METRICS_ADDRESS == "127.0.0.1:9464"
    assert worker_metrics_address(settings) == ""
    assert worker_runtime(settings) is None


def test_a_taken_port_is_skipped_with_a_warning_by_the_dev_stack_but_stops_a_configured_worker(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with socket.socket() as dev_port, socket.socket() as configured_port:
        with contextlib.suppress(OSError):  # taken already (another dev stack): taken either way
            dev_port.bind(("127.0.0.1", 9464))
            dev_port.listen()
        configured_port.bind(("127.0.0.1", 0))
        configured_port.listen()
        address = f"127.0.0.1:{configured_port.getsockname()[1]}"

        with caplog.at_level(logging.WARNING, logger="workers.telemetry"):
            assert worker_runtime(Settings(_env_file=None), dev=True) is None  # type: ignore[call-arg]
        assert [record.message for record in caplog.records] == ["worker.metrics_not_served"]
        with pytest.raises(ConfigurationError, match="CLAIMFLOW_WORKER_METRICS_ADDRESS cannot be served"):
            worker_runtime(Settings(_env_file=None, worker_metrics_address=address))  # type: ignore[call-arg]
