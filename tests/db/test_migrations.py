"""Migrations: `upgrade head` builds exactly the modelled schema, and running it again is harmless."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import psycopg
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, func, make_url, select, text

import db.models
from db.base import Base
from db.engine import postgresql_url
from db.migrate import UPGRADE_LOCK_ID, alembic_config, upgrade
from tests.db.helpers import take_in
from tests.support.database import create_test_database, drop_test_database, owner_url

REFERENCE_TABLES = (
    db.models.Payer,
    db.models.Adjuster,
    db.models.Provider,
    db.models.Patient,
    db.models.ICD10Code,
    db.models.CPTCode,
)


def schema_differences(url: str) -> list[object]:
    engine = create_engine(postgresql_url(owner_url(url)))  # the app role may not read alembic_version
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
    engine = create_engine(postgresql_url(url))
    try:
        with engine.connect() as connection:
            return {
                model.__tablename__: connection.scalar(select(func.count()).select_from(model)) or 0
                for model in (*REFERENCE_TABLES, db.models.ClaimRegister)
            }
    finally:
        engine.dispose()


def test_upgrade_head_builds_the_modelled_schema(db_url):
    assert schema_differences(db_url) == []


async def test_upgrading_a_current_database_again_changes_nothing(db_url, session_factory):
    await take_in(session_factory)
    before = row_counts(db_url)

    upgrade(owner_url(db_url), app_role=make_url(db_url).username)

    assert row_counts(db_url) == before
    assert before["claim"] == 1 and before["icd10_code"] >= 20


def test_threads_upgrading_one_empty_database_at_once_do_not_collide():
    url = create_test_database(migrate=False)
    try:
        with ThreadPoolExecutor(max_workers=3) as pool:
            for outcome in [pool.submit(upgrade, url) for _ in range(3)]:
                outcome.result(timeout=60)

        assert schema_differences(url) == []
        assert row_counts(url)["adjuster"] == 3
    finally:
        drop_test_database(url)


def test_an_upgrade_waits_while_another_process_is_upgrading():
    url = create_test_database(migrate=False)
    try:
        with psycopg.connect(make_url(url).set(drivername="postgresql").render_as_string(False)) as other:
            other.execute("SELECT pg_advisory_xact_lock(%s)", (UPGRADE_LOCK_ID,))  # as a running upgrade holds it
            waiting = threading.Thread(target=upgrade, args=(url,))
            waiting.start()
            waiting.join(timeout=1.0)
            assert waiting.is_alive()
            other.commit()
        waiting.join(timeout=60)

        assert not waiting.is_alive()
        assert schema_differences(url) == []
    finally:
        drop_test_database(url)


def check_constraints(url: str) -> dict[str, str]:
    """Every CHECK constraint of the database, by name, as PostgreSQL spells it."""
    engine = create_engine(postgresql_url(url))
    try:
        with engine.connect() as connection:
            query = text("SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint WHERE contype = 'c'")
            return {name: definition for name, definition in connection.execute(query)}
    finally:
        engine.dispose()


def test_upgrade_head_builds_the_modelled_check_constraints(db_url):
    # compare_metadata does not compare CHECK constraints: build the models' schema and compare the definitions
    modelled = create_test_database(migrate=False)
    try:
        engine = create_engine(postgresql_url(modelled))
        with engine.begin() as connection:
            Base.metadata.create_all(connection)
        engine.dispose()

        assert check_constraints(db_url) == check_constraints(modelled)
        assert set(check_constraints(db_url)) >= {"ck_claim_note_body_length", "ck_claim_note_kind"}
    finally:
        drop_test_database(modelled)
