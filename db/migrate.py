"""Bring a database to the newest schema (Alembic, from inside the package), seed it, and grant the application's
role what it needs and nothing more.

Migrations run as the tables' owner; the API and the workers connect as another role (the application's), which
may read and write claims but only SELECT and INSERT the audit log: no UPDATE, DELETE, TRUNCATE or ownership, so
it can neither rewrite the audit log nor drop the triggers that guard it.
"""

from __future__ import annotations

import threading
from pathlib import Path

from alembic import command
from alembic.config import Config
from psycopg import sql
from sqlalchemy import Connection, create_engine, make_url, text

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


#: What the application's role may do on each table; a table not listed here makes `upgrade` fail (say what the
#: application needs on it). alembic_version is the migrations' own: the application gets nothing on it.
APP_PRIVILEGES: dict[str, tuple[str, ...]] = {
    "payer": ("SELECT",),
    "patient": ("SELECT",),
    "adjuster": ("SELECT", "INSERT", "UPDATE"),  # admins keep the adjusters (POST/PATCH /v1/adjusters)
    "assignment_rule_set": ("SELECT", "INSERT"),  # a new version of the rules is a new row; old ones stay
    "provider": ("SELECT", "INSERT", "UPDATE"),  # the reference row, as claims last named it
    "icd10_code": ("SELECT", "INSERT", "UPDATE"),  # admins maintain the code tables
    "cpt_code": ("SELECT", "INSERT", "UPDATE"),
    "ncci_ptp_edit": ("SELECT", "INSERT", "UPDATE"),  # `claimflow codes import` loads the CMS edit tables
    "mue_edit": ("SELECT", "INSERT", "UPDATE"),
    "mce_edit": ("SELECT", "INSERT", "UPDATE"),
    "code_system_load": ("SELECT", "INSERT", "UPDATE"),  # `claimflow codes import` records each load
    "claim": ("SELECT", "INSERT", "UPDATE"),
    "claim_note": ("SELECT", "INSERT", "DELETE"),  # a refused update's note is deleted; UPDATE is refused anyway
    "claim_status_history": ("SELECT", "INSERT"),
    "claim_line_adjudication": ("SELECT", "INSERT", "UPDATE"),
    "payment": ("SELECT", "INSERT"),
    "claim_ledger_entry": ("SELECT", "INSERT"),  # append-only: reversals and corrections are new rows
    "provider_adjustment": ("SELECT", "INSERT"),  # 835 PLB, append-only like the ledger
    "insurance_claim": ("SELECT", "INSERT"),
    "claim_provider_info": ("SELECT", "INSERT"),
    "claim_test_relation": ("SELECT", "INSERT"),
    "bill_claim_relation": ("SELECT", "INSERT"),
    "audit_log": ("SELECT", "INSERT"),
    "audit_chain_head": ("SELECT",),  # the append trigger (run as the owner) moves it
    "rate_limit_window": ("SELECT", "INSERT", "UPDATE", "DELETE"),
    "x12_interchange": ("SELECT", "INSERT"),  # written once per claim and transaction set, never changed
    "integration": ("SELECT", "INSERT", "UPDATE"),  # admins keep them; `claimflow dev` adds the sandbox's on first use
    "integration_route": ("SELECT", "INSERT", "UPDATE"),
    "claim_eligibility": ("SELECT", "INSERT", "UPDATE"),  # the last check's answer; a later check replaces it
    "risk_rule": ("SELECT", "INSERT", "UPDATE"),  # admins edit the risk screen's rules (PUT /v1/risk/rules/{id})
    "claim_document": ("SELECT", "INSERT", "UPDATE"),  # a new version moves current_version (and may rename it)
    "claim_document_version": ("SELECT", "INSERT"),  # versions are kept for good: never changed, never deleted
    "subscription": ("SELECT", "INSERT", "UPDATE"),  # organizations' webhook subscriptions (deleted: inactive)
    "webhook_delivery": ("SELECT", "INSERT", "UPDATE"),  # one row per event and subscription, its last attempt
}
#: Tables the application's role gets nothing on.
OWNER_ONLY_TABLES = frozenset({"alembic_version"})


class UnlistedTableError(RuntimeError):
    """A table has no entry in APP_PRIVILEGES."""


def upgrade(url: str, *, app_role: str | None = None) -> None:
    """Migrate the database at `url` (async or sync URL; its user owns the tables) to head, seed the reference
    data, and, given `app_role`, grant that role exactly APP_PRIVILEGES (revoking anything else it had).

    One transaction: the schema, the seed and the grants land together or not at all. Safe to call on a
    database that is already current, and from several processes (or threads) at once.
    """
    engine = create_engine(postgresql_url(url))
    try:
        with _UPGRADE_IN_PROCESS, engine.begin() as connection:
            connection.execute(text("SELECT pg_advisory_xact_lock(:id)"), {"id": UPGRADE_LOCK_ID})
            command.upgrade(alembic_config(connection), "head")
            seed_reference_data(connection)
            if app_role is not None:
                grant_app_privileges(connection, app_role)
    finally:
        engine.dispose()


def app_role_of(app_url: str, owner_url: str) -> str | None:
    """The application's role: the user of `app_url`, or None when it is the owner itself (one role for both)."""
    app_user, owner_user = make_url(app_url).username, make_url(owner_url).username
    return app_user if app_user and app_user != owner_user else None


def grant_app_privileges(connection: Connection, role: str) -> None:
    """Give `role` exactly APP_PRIVILEGES on the public schema's tables (and its sequences' use), nothing else."""
    if connection.scalar(text("SELECT current_user")) == role:
        raise ValueError("the application's database role must not be the role that owns the tables")
    tables = set(connection.scalars(text("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")))
    unlisted = sorted(tables - set(APP_PRIVILEGES) - OWNER_ONLY_TABLES)
    if unlisted:
        raise UnlistedTableError(
            f"table(s) {', '.join(unlisted)} have no entry in db/migrate.py APP_PRIVILEGES: "
            f"list what the application's role may do on each"
        )
    raw = connection.connection.driver_connection
    assert raw is not None

    def run(statement: sql.Composable) -> None:
        connection.exec_driver_sql(statement.as_string(raw))

    grantee = sql.Identifier(role)
    run(sql.SQL("REVOKE ALL ON ALL TABLES IN SCHEMA public FROM {}").format(grantee))
    run(sql.SQL("REVOKE ALL ON ALL SEQUENCES IN SCHEMA public FROM {}").format(grantee))
    run(sql.SQL("GRANT USAGE ON SCHEMA public TO {}").format(grantee))
    for table in sorted(tables & set(APP_PRIVILEGES)):
        privileges = sql.SQL(", ").join(sql.SQL(privilege) for privilege in APP_PRIVILEGES[table])
        run(sql.SQL("GRANT {} ON TABLE {} TO {}").format(privileges, sql.Identifier(table), grantee))
    run(sql.SQL("GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO {}").format(grantee))
