"""SandboxState: the per-app objects routes share (config, processor, faults, notifier)."""

from __future__ import annotations

from dataclasses import dataclass

from starlette.requests import Request

from sandbox.config import SandboxConfig
from sandbox.faults import FaultInjector
from sandbox.processor import Processor
from sandbox.webhooks import WebhookNotifier


@dataclass
class SandboxState:
    """What one sandbox app instance is made of."""

    config: SandboxConfig
    processor: Processor
    faults: FaultInjector
    notifier: WebhookNotifier


def get_state(request: Request) -> SandboxState:
    """The SandboxState of the app serving this request."""
    state: SandboxState = request.app.state.sandbox
    return state
