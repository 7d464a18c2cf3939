"""Command line: run the sandbox processor with uvicorn."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path

import uvicorn

from sandbox.app import create_app
from sandbox.config import DEFAULT_WEBHOOK_SECRET, SandboxConfig


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """Parse the command line."""
    parser = argparse.ArgumentParser(prog="python -m sandbox", description="Run the claimflow sandbox processor.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8100)
    parser.add_argument("--data", type=Path, default=None, help="SQLite file to keep state in (default: in memory)")
    parser.add_argument("--step-seconds", type=float, default=0.0, help="also advance claims by wall time")
    parser.add_argument("--webhook-secret", default=DEFAULT_WEBHOOK_SECRET)
    parser.add_argument("--seed", type=int, default=None, help="seed for fault injection")
    parser.add_argument("--log-level", default="info")
    parser.add_argument("--access-log", action="store_true", help="log every request line")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> None:
    """Build the app from the command line and serve it until interrupted."""
    args = parse_args(argv)
    config = SandboxConfig(
        data_path=args.data, step_seconds=args.step_seconds, webhook_secret=args.webhook_secret, seed=args.seed
    )
    app = create_app(config)
    try:
        uvicorn.run(app, host=args.host, port=args.port, log_level=args.log_level, access_log=args.access_log)
    finally:
        app.state.sandbox.processor.store.close()


if __name__ == "__main__":
    main()
