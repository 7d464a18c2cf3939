"""Least privilege: the application's role owns nothing and has exactly the grants db/migrate.py lists; the
audit log refuses UPDATE, DELETE and TRUNCATE to it, and TRUNCATE (audit log and notes) even to the owner."""

from __future__ import annotations

import psycopg
import pytest
from sqlalchemy import make_url, text
from sqlalchemy.exc import DBAPIError

from db.migrate import APP_PRIVILEGES, OWNER_ONLY_TABLES
from db.uow import UnitOfWork
from tests.db.test_audit_chain import append, as_owner

PRIVILEGES = ("SELECT", "INSERT", "UPDATE", "DELETE", "TRUNCATE", "REFERENCES", "TRIGGER")


async def test_the_app_role_has_exactly_the_listed_privileges_and_owns_nothing(db_url):
    role = make_url(db_url).username
    with as_owner(db_url) as owner:
        tables = [name for (name,) in owner.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")]
        granted = {
            table: tuple(
                privilege
                for privilege in PRIVILEGES
                if owner.execute("SELECT has_table_privilege(%s, %s, %s)", (role, table, privilege)).fetchone()[0]
            )
            for table in tables
        }
        owned = owner.execute(
            "SELECT count(*) FROM pg_class c JOIN pg_roles r ON r.oid = c.relowner WHERE r.rolname = %s", (role,)
        ).fetchone()[0]
        superuser = owner.execute("SELECT rolsuper FROM pg_roles WHERE rolname = %s", (role,)).fetchone()[0]

    assert set(tables) == set(APP_PRIVILEGES) | OWNER_ONLY_TABLES  # a new table needs an entry
    assert granted == {table: APP_PRIVILEGES.get(table, ()) for table in tables}
    assert granted["audit_log"] == ("SELECT", "INSERT")
    assert (owned, superuser) == (0, False)


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE audit_log SET actor = 'mallory'",
        "DELETE FROM audit_log",
        "TRUNCATE audit_log",
        "ALTER TABLE audit_log DISABLE TRIGGER audit_log_append_only",
        "DROP TRIGGER audit_log_append_only ON audit_log",
        "UPDATE audit_chain_head SET last_id = 0",
        "TRUNCATE claim_note",
    ],
)
async def test_the_app_role_may_not_change_the_audit_log_or_its_guards(session_factory, statement):
    assert await append(session_factory, "kept")

    async with UnitOfWork(session_factory) as uow:
        with pytest.raises(DBAPIError, match=r"permission denied|must be owner"):
            await uow.session.execute(text(statement))

    async with UnitOfWork(session_factory) as uow:
        assert [e.actor for e in await uow.audit.list_for_claim("c" * 32)] == ["alice"]


@pytest.mark.parametrize(
    ("statement", "message"),
    [
        ("UPDATE audit_log SET actor = 'mallory'", "append-only"),
        ("DELETE FROM audit_log", "append-only"),
        ("TRUNCATE audit_log", "append-only"),
        ("TRUNCATE claim_note CASCADE", "never emptied"),
    ],
)
async def test_the_owner_too_is_refused_unless_it_switches_the_triggers_off(
    session_factory, db_url, statement, message
):
    assert await append(session_factory, "kept")

    with as_owner(db_url) as owner, pytest.raises(psycopg.errors.RestrictViolation, match=message):
        owner.execute(statement)

    async with UnitOfWork(session_factory) as uow:
        assert [e.actor for e in await uow.audit.list_for_claim("c" * 32)] == ["alice"]
