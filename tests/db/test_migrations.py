"""Migrations: `upgrade head` builds exactly the modelled schema, and running it again is harmless."""

from __future__ import annotations

from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, func, select

import db.models
from db.base import Base
from db.migrate import alembic_config, upgrade
from db.urls import sync_url
from tests.db.helpers import take_in

REFERENCE_TABLES = (
    db.models.Payer,
    db.models.Adjuster,
    db.models.Provider,
    db.models.Patient,
    db.models.ICD10Code,
    db.models.CPTCode,
)


def schema_differences(url: str) -> list[object]:
    engine = create_engine(sync_url(url))
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(
                connection, opts={"compare_type": True, "compare_server_default": True}
            )
            assert context.get_current_revision() == ScriptDirectory.from_config(alembic_config()).get_current_head()
            return list(compare_metadata(context, Base.metadata))
    finally:
        engine.dispose()


def row_counts(url: str) -> dict[str, int]:
    engine = create_engine(sync_url(url))
    try:
        with engine.connect() as connection:
            return {
                model.__tablename__: connection.scalar(select(func.count()).select_from(model)) or 0
                for model in (*REFERENCE_TABLES, db.models.ClaimRegister)
            }
    finally:
        engine.dispose()


def test_upgrade_head_builds_the_modelled_schema_on_postgresql(db_url):
    assert schema_differences(db_url) == []


def test_upgrade_head_builds_the_modelled_schema_on_sqlite(tmp_path: Path):
    url = f"sqlite+aiosqlite:///{tmp_path / 'schema.db'}"
    upgrade(url)

    assert schema_differences(url) == []


async def test_upgrading_a_current_database_again_changes_nothing(db_url, session_factory):
    await take_in(session_factory)
    before = row_counts(db_url)

    upgrade(db_url)

    assert row_counts(db_url) == before
    assert before["claim"] == 1 and before["icd10_code"] >= 20
