"""The README's curl lines, read from the README itself and run with bash against a running `claimflow dev`."""

from __future__ import annotations

import json
import shlex
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

README = Path(__file__).resolve().parents[2] / "README.md"
SECTION = "## The API in a few curl lines"


def api_commands(readme: Path = README) -> list[str]:
    """Each shell command of the README's API section, with its continuation lines and multi-line body."""
    text = readme.read_text()
    start = text.index("```sh", text.index(SECTION)) + len("```sh")
    block = text[start : text.index("```", start)]
    commands: list[str] = []
    current: list[str] = []
    for line in block.splitlines():
        if not current and (not line.strip() or line.lstrip().startswith("#")):
            continue
        current.append(line)
        joined = "\n".join(current)
        if joined.count("'") % 2 == 0 and not line.rstrip().endswith("\\"):
            commands.append(joined)
            current = []
    assert not current, f"the README's API block ends inside a command: {current}"
    return commands


@dataclass
class ReadmeWalk:
    """Runs the README's commands as written, with the dev stack's port and this checkout's `claimflow`."""

    env: dict[str, str]
    commands: list[str]

    @property
    def api_port(self) -> str:
        return self.env["CLAIMFLOW_API_PORT"]

    def command(self, *markers: str) -> str:
        """The one README command that contains every marker."""
        found = [c for c in self.commands if all(m in c for m in markers)]
        assert len(found) == 1, f"expected one README command with {markers}, found {len(found)}"
        return found[0]

    def run(self, command: str, *, timeout: float = 30, **variables: str) -> str:
        command = command.replace("localhost:8000", f"127.0.0.1:{self.api_port}")
        command = command.replace(".venv/bin/claimflow", f"{shlex.quote(sys.executable)} -m workers.cli")
        done = subprocess.run(
            ["bash", "-c", command],
            env={**self.env, **variables},
            capture_output=True,
            text=True,
            timeout=timeout,
            check=True,
        )
        return done.stdout

    def json(self, command: str, **variables: str) -> Any:
        out = self.run(command, **variables)
        try:
            return json.loads(out)
        except json.JSONDecodeError as exc:
            raise AssertionError(f"not JSON from {command!r}: {out!r}") from exc

    def assign(self, command: str, name: str) -> str:
        """Run an assignment line (`TOKEN=$(...)`) and return the value it assigns."""
        return self.run(f'{command}\nprintf %s "${name}"').strip()
