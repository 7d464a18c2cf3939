"""Alembic environment: migrates the connection db.migrate hands in, or the configured URL."""

from __future__ import annotations

import os

from alembic import context
from sqlalchemy import Connection, create_engine

import db.models  # noqa: F401  (registers every table on Base.metadata)
from db.base import Base
from db.engine import postgresql_url

target_metadata = Base.metadata


def configured_url() -> str:
    """The URL handed to Alembic, else CLAIMFLOW_DATABASE_URL (the settings' variable; db/ does not import workers/)."""
    return context.config.get_main_option("sqlalchemy.url") or os.environ.get("CLAIMFLOW_DATABASE_URL", "")


def run(connection: Connection) -> None:
    context.configure(connection=connection, target_metadata=target_metadata, compare_type=True)
    with context.begin_transaction():
        context.run_migrations()


def run_offline() -> None:
    context.configure(url=postgresql_url(configured_url()), target_metadata=target_metadata, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()


def run_online() -> None:
    connection = context.config.attributes.get("connection")
    if connection is not None:
        run(connection)
        return
    engine = create_engine(postgresql_url(configured_url()))
    try:
        with engine.begin() as owned:
            run(owned)
    finally:
        engine.dispose()


if context.is_offline_mode():
    run_offline()
else:
    run_online()
