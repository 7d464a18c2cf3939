"""Connecting to Temporal with the project's data converter."""

from __future__ import annotations

from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter

from workers.settings import Settings
from workers.telemetry import tracing


async def connect(settings: Settings) -> Client:
    """One client per process; pydantic models travel as JSON."""
    return await Client.connect(
        settings.temporal_address,
        namespace=settings.temporal_namespace,
        data_converter=pydantic_data_converter,
        interceptors=tracing(settings.trace_exporter),
    )
