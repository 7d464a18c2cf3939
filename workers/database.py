"""The database a claimflow process uses: CLAIMFLOW_DATABASE_URL, or the embedded PostgreSQL in the data folder."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from workers import shutdown
from workers.embedded_postgres import embedded_postgres
from workers.settings import Settings


@contextlib.contextmanager
def database(settings: Settings) -> Iterator[str]:
    """The async URL to use while the block runs; an embedded server started for it stops when the block ends."""
    if settings.database_url:
        yield settings.database_url
        return
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    with embedded_postgres(settings.data_dir, port=settings.embedded_database_port, on_start=shutdown.track) as url:
        yield url
