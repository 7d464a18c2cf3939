"""TLS for claimflow's own HTTPS calls: the system's roots, plus a CA of the operator's when one is configured."""

from __future__ import annotations

import ssl
from pathlib import Path


def client_context(ca_file: Path | None) -> ssl.SSLContext:
    """A verifying client context: hostnames and chains checked against the system's roots and `ca_file`."""
    context = ssl.create_default_context()
    if ca_file is not None:
        context.load_verify_locations(cafile=ca_file)
    return context
