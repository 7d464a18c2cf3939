"""The database a claimflow process uses: CLAIMFLOW_DATABASE_URL, or the embedded PostgreSQL in the data folder.

Two roles: the application's (the API and the workers connect as it) and the tables' owner (migrations connect as
it: CLAIMFLOW_DATABASE_MIGRATION_URL, or for the embedded server its `postgres` superuser).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass

from db.migrate import app_role_of, upgrade
from workers import shutdown
from workers.embedded_postgres import APP_USER, Cluster, app_role_url, embedded_postgres
from workers.settings import Settings


@dataclass(frozen=True)
class Database:
    """Where to connect: `url` as the application's role, `migration_url` as the tables' owner."""

    url: str
    migration_url: str

    def migrate(self) -> str | None:
        """Bring the schema to head as the owner and grant the application's role what it needs; that role, or None
        when the application connects as the owner itself (no CLAIMFLOW_DATABASE_MIGRATION_URL)."""
        role = app_role_of(self.url, self.migration_url)
        upgrade(self.migration_url, app_role=role)
        return role


@contextlib.contextmanager
def database(settings: Settings) -> Iterator[Database]:
    """The URLs to use while the block runs; an embedded server started for it stops when the block ends."""
    if settings.database_url:
        yield Database(
            url=settings.database_url, migration_url=settings.database_migration_url or settings.database_url
        )
        return
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    with embedded_postgres(settings.data_dir, port=settings.embedded_database_port, on_start=shutdown.track) as owner:
        cluster = Cluster(settings.data_dir.resolve())
        yield Database(url=app_role_url(owner, cluster.app_password_file, role=APP_USER), migration_url=owner)
