"""Bring a database to the newest schema (Alembic, from inside the package) and seed it."""

from __future__ import annotations

import threading
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, create_engine, text

from db.engine import postgresql_url
from db.seeding import seed_reference_data

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
#: Serialises concurrent upgrades of one database (any fixed 64-bit number).
UPGRADE_LOCK_ID = 7_311_020_451
#: Alembic keeps its migration context in module globals: one upgrade per process at a time.
_UPGRADE_IN_PROCESS = threading.Lock()


def alembic_config(connection: Connection | None = None) -> Config:
    """The Alembic configuration, built in code: no alembic.ini or working directory needed."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS).replace("%", "%%"))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def upgrade(url: str) -> None:
    """Migrate the database at `url` (async or sync URL) to head and seed the reference data.

    One transaction: the schema and the seed land together or not at all. Safe to call on a
    database that is already current, and from several processes (or threads) at once.
    """
    engine = create_engine(postgresql_url(url))
    try:
        with _UPGRADE_IN_PROCESS, engine.begin() as connection:
            connection.execute(text("SELECT pg_advisory_xact_lock(:id)"), {"id": UPGRADE_LOCK_ID})
            command.upgrade(alembic_config(connection), "head")
            seed_reference_data(connection)
    finally:
        engine.dispose()
