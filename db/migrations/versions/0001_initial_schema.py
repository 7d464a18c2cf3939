"""Initial schema: claim register, notes, snapshot tables, history, audit (append-only), payment, reference data.

Revision ID: 0001
Revises:
Create Date: 2026-11-23

Written by hand, for PostgreSQL. Types are spelled out here rather than imported from the
models, so this revision never changes when the models do.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = postgresql.JSONB()
MONEY = sa.Numeric(precision=12, scale=2)
TIMESTAMP = sa.DateTime(timezone=True)
#: The writing transaction's id as a number (xid8 with its epoch: it never wraps).
EVENT_TXID = "(pg_current_xact_id()::text)::bigint"
CLAIM_ID = sa.String(length=32)

APPEND_ONLY_MESSAGE = "audit_log is append-only: UPDATE, DELETE and TRUNCATE are refused"
NOTE_UNCHANGED_MESSAGE = "claim_note rows are written once: UPDATE is refused"
NOTE_KEPT_MESSAGE = "claim_note is never emptied: TRUNCATE is refused"
LEDGER_APPEND_ONLY_MESSAGE = "UPDATE, DELETE and TRUNCATE are refused; post a reversal or a correction instead"
#: The prev_hash of the audit chain's first row (db/audit_chain.py GENESIS_HASH).
AUDIT_GENESIS_HASH = "0" * 64
NOTE_BODY_MAX_CHARS = 2000


def created_at() -> sa.Column[object]:
    return sa.Column("created_at", TIMESTAMP, server_default=sa.func.now(), nullable=False)


def timestamps() -> list[sa.Column[object]]:
    return [created_at(), sa.Column("updated_at", TIMESTAMP, server_default=sa.func.now(), nullable=False)]


def snapshot_key() -> list[sa.Column[object]]:
    return [sa.Column("claim_id", CLAIM_ID, nullable=False), sa.Column("version", sa.Integer(), nullable=False)]


def snapshot_parent(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["claim_id", "version"],
        ["insurance_claim.claim_id", "insurance_claim.version"],
        name=f"fk_{table}_claim_id_insurance_claim",
    )


def upgrade() -> None:
    create_reference_tables()
    create_claim_tables()
    create_snapshot_tables()
    create_audit_log()
    create_rate_limit_window()
    create_x12_interchange()
    create_ledger()
    create_edit_tables()
    create_integrations()
    create_claim_eligibility()
    create_risk_rules()
    create_claim_documents()
    create_subscriptions()


def create_claim_documents() -> None:
    """Supporting documents of a claim and every version of each (kept for good); the bytes live in the document
    store under their SHA-256, so these tables hold metadata only."""
    op.create_table(
        "claim_document",
        sa.Column("document_id", sa.String(length=32), nullable=False),
        sa.Column("claim_id", CLAIM_ID, nullable=False),
        sa.Column("org_id", sa.String(length=64), nullable=False),
        sa.Column("type", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("current_version", sa.Integer(), nullable=False),
        *timestamps(),
        sa.PrimaryKeyConstraint("document_id", name="pk_claim_document"),
        sa.ForeignKeyConstraint(["claim_id"], ["claim.claim_id"], name="fk_claim_document_claim_id_claim"),
        sa.CheckConstraint(
            "type IN ('medical_record', 'itemized_bill', 'lab_report', 'referral', 'prior_authorization', "
            "'explanation_of_benefits', 'other')",
            name=op.f("ck_claim_document_type"),
        ),
        sa.CheckConstraint("current_version >= 1", name=op.f("ck_claim_document_current_version")),
    )
    op.create_index(
        "ix_claim_document_claim_id_updated_at_document_id", "claim_document", ["claim_id", "updated_at", "document_id"]
    )
    op.create_index("ix_claim_document_updated_at_document_id", "claim_document", ["updated_at", "document_id"])
    op.create_table(
        "claim_document_version",
        sa.Column("document_id", sa.String(length=32), nullable=False),
        sa.Column("version", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("content_type", sa.String(length=100), nullable=False),
        sa.Column("uploaded_by", sa.String(length=64), nullable=False),
        sa.Column("uploaded_at", TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("document_id", "version", name="pk_claim_document_version"),
        sa.ForeignKeyConstraint(
            ["document_id"], ["claim_document.document_id"], name="fk_claim_document_version_document_id_claim_document"
        ),
        sa.CheckConstraint("version >= 1", name=op.f("ck_claim_document_version_version")),
        sa.CheckConstraint("size > 0", name=op.f("ck_claim_document_version_size")),
        sa.CheckConstraint("sha256 ~ '^[0-9a-f]{64}$'", name=op.f("ck_claim_document_version_sha256")),
    )
    op.create_index("ix_claim_document_version_sha256", "claim_document_version", ["sha256"])


def create_risk_rules() -> None:
    """The risk screen's rules (domain/risk.py): kind, parameters (checked against the kind before they are
    written), weight and whether enabled; seeded with defaults, edited by admins (PUT /v1/risk/rules/{rule_id})."""
    op.create_table(
        "risk_rule",
        sa.Column("rule_id", sa.String(length=40), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("params", JSON, nullable=False),
        sa.Column("weight", sa.Integer(), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("description", sa.String(length=200), nullable=False),
        *timestamps(),
        sa.PrimaryKeyConstraint("rule_id", name="pk_risk_rule"),
        sa.CheckConstraint("weight BETWEEN 0 AND 100", name=op.f("ck_risk_rule_weight")),
        sa.CheckConstraint(
            "kind IN ('exact_duplicate', 'near_duplicate', 'frequency_limit', 'charge_outlier', 'unbundling')",
            name=op.f("ck_risk_rule_kind"),
        ),
    )


def create_claim_eligibility() -> None:
    """The payer's eligibility answer (271) checked before a claim's submission: coverage, plan, amounts and the
    names of mismatched fields (never the payer's record of the member); a later check replaces it."""
    op.create_table(
        "claim_eligibility",
        sa.Column("claim_id", CLAIM_ID, nullable=False),
        sa.Column("checked_at", TIMESTAMP, nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("answer", JSON, nullable=False),
        sa.PrimaryKeyConstraint("claim_id", name="pk_claim_eligibility"),
        sa.ForeignKeyConstraint(["claim_id"], ["claim.claim_id"], name="fk_claim_eligibility_claim_id_claim"),
    )


def create_integrations() -> None:
    """An organization's integrations (processor, adapter, envelope ids, enabled) and its payers' routes to them."""
    op.create_table(
        "integration",
        sa.Column("org_id", sa.String(length=64), nullable=False),
        sa.Column("integration_id", sa.String(length=40), nullable=False),
        sa.Column("processor", sa.String(length=60), nullable=False),
        sa.Column("adapter", sa.String(length=8), nullable=False),
        sa.Column("credentials_ref", sa.String(length=200), nullable=True),
        sa.Column("submitter_id", sa.String(length=15), nullable=True),
        sa.Column("receiver_id", sa.String(length=15), nullable=True),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("check_eligibility", sa.Boolean(), nullable=False),
        sa.Column("is_default", sa.Boolean(), nullable=False),
        *timestamps(),
        sa.PrimaryKeyConstraint("org_id", "integration_id", name="pk_integration"),
        sa.CheckConstraint("adapter IN ('json', 'x12')", name=op.f("ck_integration_adapter")),
    )
    op.create_index(
        "uq_integration_default_per_org", "integration", ["org_id"], unique=True, postgresql_where=sa.text("is_default")
    )
    op.create_table(
        "integration_route",
        sa.Column("org_id", sa.String(length=64), nullable=False),
        sa.Column("payer_id", sa.String(length=30), nullable=False),
        sa.Column("integration_id", sa.String(length=40), nullable=False),
        *timestamps(),
        sa.PrimaryKeyConstraint("org_id", "payer_id", name="pk_integration_route"),
        sa.ForeignKeyConstraint(["payer_id"], ["payer.payer_id"], name="fk_integration_route_payer_id_payer"),
        sa.ForeignKeyConstraint(
            ["org_id", "integration_id"],
            ["integration.org_id", "integration.integration_id"],
            name="fk_integration_route_org_id_integration",
        ),
    )


def create_reference_tables() -> None:
    op.create_table(
        "payer",
        sa.Column("payer_id", sa.String(length=30), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        *timestamps(),
        sa.PrimaryKeyConstraint("payer_id", name="pk_payer"),
    )
    op.create_table(
        "provider",
        sa.Column("npi", sa.String(length=30), nullable=False),
        sa.Column("name", sa.String(length=60), nullable=True),
        sa.Column("tax_id", sa.String(length=30), nullable=True),
        *timestamps(),
        sa.PrimaryKeyConstraint("npi", name="pk_provider"),
    )
    op.create_table(
        "patient",
        sa.Column("patient_id", sa.String(length=32), nullable=False),
        sa.Column("first_name", sa.String(length=60), nullable=False),
        sa.Column("last_name", sa.String(length=60), nullable=False),
        sa.Column("date_of_birth", sa.Date(), nullable=False),
        sa.Column("sex", sa.String(length=1), nullable=False),
        sa.Column("payer_id", sa.String(length=30), nullable=False),
        sa.Column("member_id", sa.String(length=30), nullable=False),
        *timestamps(),
        sa.PrimaryKeyConstraint("patient_id", name="pk_patient"),
    )
    op.create_table(
        "adjuster",
        sa.Column("adjuster_id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("payer_ids", JSON, nullable=False),
        sa.Column("claim_kinds", JSON, server_default=sa.text("'[]'::jsonb"), nullable=False),
        sa.Column("org_ids", JSON, server_default=sa.text("'[]'::jsonb"), nullable=False),
        sa.Column("authority_limit", MONEY, nullable=False),
        sa.Column("capacity", sa.Integer(), server_default=sa.text("25"), nullable=False),
        sa.Column("supervisor", sa.Boolean(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("away", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("team", sa.String(length=64), nullable=True),
        sa.Column("email", sa.String(length=254), nullable=True),  # where assignments and escalations are mailed
        *timestamps(),
        sa.PrimaryKeyConstraint("adjuster_id", name="pk_adjuster"),
        sa.CheckConstraint("capacity >= 1", name=op.f("ck_adjuster_capacity")),
    )
    op.create_index("ix_adjuster_team", "adjuster", ["team"])
    # Versions of the ordered assignment rules, each kept; the newest is in force.
    op.create_table(
        "assignment_rule_set",
        sa.Column("version", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("rules", JSON, nullable=False),
        sa.Column("set_by", sa.String(length=100), nullable=False),
        sa.Column("set_at", TIMESTAMP, server_default=sa.func.now(), nullable=False),
        sa.PrimaryKeyConstraint("version", name="pk_assignment_rule_set"),
    )
    op.create_table(
        "icd10_code",
        sa.Column("code", sa.String(length=8), nullable=False),
        sa.Column("description", sa.String(length=255), nullable=False),
        sa.Column("effective_date", sa.Date(), nullable=False),
        sa.Column("termination_date", sa.Date(), nullable=True),
        sa.Column("billable", sa.Boolean(), nullable=False),
        *timestamps(),
        sa.PrimaryKeyConstraint("code", name="pk_icd10_code"),
    )
    op.create_table(
        "cpt_code",
        sa.Column("code", sa.String(length=5), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),  # CMS's long descriptors run past 255
        sa.Column("effective_date", sa.Date(), nullable=False),
        sa.Column("termination_date", sa.Date(), nullable=True),
        *timestamps(),
        sa.PrimaryKeyConstraint("code", name="pk_cpt_code"),
    )
    op.create_table(
        "code_system_load",
        sa.Column("system", sa.String(length=16), nullable=False),
        sa.Column("loaded_in_full", sa.Boolean(), nullable=False),
        sa.Column("source", sa.String(length=255), nullable=False),
        sa.Column("version", sa.String(length=32), nullable=True),
        sa.Column("codes", sa.Integer(), nullable=False),
        sa.Column("loaded_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("system", name="pk_code_system_load"),
    )


def create_claim_tables() -> None:
    op.create_table(
        "claim",
        sa.Column("claim_id", CLAIM_ID, nullable=False),
        sa.Column("org_id", sa.String(length=64), nullable=False),
        sa.Column("idempotency_key", sa.String(length=255), nullable=True),
        sa.Column("request_hash", sa.String(length=128), nullable=False),
        sa.Column("patient_control_number", sa.String(length=38), nullable=False),
        sa.Column("payer_id", sa.String(length=30), nullable=False),
        sa.Column("total_charge", MONEY, nullable=False),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("status_seq", sa.Integer(), nullable=False),
        sa.Column("assigned_adjuster", sa.String(length=64), nullable=True),
        # work management: when the assignee's review is due, and the risk screen's score (for queue priority)
        sa.Column("review_due_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("risk_score", sa.Integer(), nullable=True),
        sa.Column("payer_claim_id", sa.String(length=64), nullable=True),
        sa.Column("document", JSON, nullable=False),
        sa.Column("validation_errors", JSON, nullable=False),
        # lineage: the original a replacement (frequency 7) or void (8) names by its payer claim id
        sa.Column("replaces_claim_id", CLAIM_ID, nullable=True),
        *timestamps(),
        sa.UniqueConstraint("org_id", "idempotency_key", name="uq_claim_org_id_idempotency_key"),
        sa.PrimaryKeyConstraint("claim_id", name="pk_claim"),
        sa.ForeignKeyConstraint(["replaces_claim_id"], ["claim.claim_id"], name="fk_claim_replaces_claim_id_claim"),
    )
    for columns in (
        ["org_id", "created_at", "claim_id"],
        ["created_at", "claim_id"],
        ["status", "created_at", "claim_id"],
        ["payer_id", "created_at", "claim_id"],
        ["assigned_adjuster", "created_at", "claim_id"],
    ):
        op.create_index(f"ix_claim_{'_'.join(columns)}", "claim", columns)
    op.create_index(
        "ix_claim_replaces_claim_id",
        "claim",
        ["replaces_claim_id"],
        postgresql_where=sa.text("replaces_claim_id IS NOT NULL"),
    )
    create_claim_note()
    op.create_table(
        "claim_status_history",
        sa.Column("claim_id", CLAIM_ID, nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("reason", sa.String(length=500), nullable=False),
        sa.Column("at", TIMESTAMP, nullable=False),
        sa.Column("actor", sa.String(length=64), nullable=False),
        sa.Column("note_id", sa.String(length=32), nullable=True),
        # the event feed's position: the writing transaction's id (events are read below the oldest running one)
        sa.Column("txid", sa.BigInteger(), server_default=sa.text(EVENT_TXID), nullable=False),
        created_at(),
        sa.PrimaryKeyConstraint("claim_id", "seq", name="pk_claim_status_history"),
        sa.ForeignKeyConstraint(["claim_id"], ["claim.claim_id"], name="fk_claim_status_history_claim_id_claim"),
        # a status row shows only a note of its own claim (NULL note_id: no note, nothing checked)
        sa.ForeignKeyConstraint(
            ["note_id", "claim_id"],
            ["claim_note.note_id", "claim_note.claim_id"],
            name="fk_claim_status_history_note_id_claim_note",
        ),
    )
    op.create_index("ix_claim_status_history_feed", "claim_status_history", ["txid", "claim_id", "seq"])
    op.create_index(
        "ix_claim_status_history_note_id",
        "claim_status_history",
        ["note_id"],
        postgresql_where=sa.text("note_id IS NOT NULL"),
    )
    op.create_table(
        "claim_line_adjudication",
        sa.Column("claim_id", CLAIM_ID, nullable=False),
        sa.Column("line_number", sa.Integer(), nullable=False),
        sa.Column("billed", MONEY, nullable=False),
        sa.Column("allowed", MONEY, nullable=False),
        sa.Column("paid", MONEY, nullable=False),
        sa.Column("adjustments", JSON, nullable=False),
        sa.Column("remark_codes", JSON, nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("adjudicated_at", TIMESTAMP, nullable=False),
        *timestamps(),
        sa.PrimaryKeyConstraint("claim_id", "line_number", name="pk_claim_line_adjudication"),
        sa.ForeignKeyConstraint(["claim_id"], ["claim.claim_id"], name="fk_claim_line_adjudication_claim_id_claim"),
    )
    op.create_table(
        "payment",
        sa.Column("payment_id", sa.String(length=64), nullable=False),
        sa.Column("claim_id", CLAIM_ID, nullable=False),
        sa.Column("amount", MONEY, nullable=False),
        sa.Column("paid_at", TIMESTAMP, nullable=False),
        created_at(),
        sa.PrimaryKeyConstraint("payment_id", name="pk_payment"),
        sa.ForeignKeyConstraint(["claim_id"], ["claim.claim_id"], name="fk_payment_claim_id_claim"),
        sa.UniqueConstraint("claim_id", name="uq_payment_claim_id"),
    )


def create_claim_note() -> None:
    """Notes (decision, information, cancellation): free text that may hold PHI, so it lives here and never in
    workflow history. Written once (UPDATE refused); a note no status row refers to may be deleted."""
    op.create_table(
        "claim_note",
        sa.Column("note_id", sa.String(length=32), nullable=False),
        sa.Column("claim_id", CLAIM_ID, nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("author", sa.String(length=64), nullable=False),
        created_at(),
        sa.PrimaryKeyConstraint("note_id", name="pk_claim_note"),
        sa.ForeignKeyConstraint(["claim_id"], ["claim.claim_id"], name="fk_claim_note_claim_id_claim"),
        sa.UniqueConstraint("claim_id", "note_id", name="uq_claim_note_claim_id_note_id"),
        sa.CheckConstraint(
            f"char_length(body) BETWEEN 1 AND {NOTE_BODY_MAX_CHARS}", name=op.f("ck_claim_note_body_length")
        ),
        sa.CheckConstraint(
            "kind IN ('decision', 'information', 'cancellation', 'void', 'reassignment')",
            name=op.f("ck_claim_note_kind"),
        ),
    )
    op.execute(
        f"""
        CREATE FUNCTION claim_note_refuse_update() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            RAISE EXCEPTION '{NOTE_UNCHANGED_MESSAGE}' USING ERRCODE = 'restrict_violation';
        END;
        $$
        """
    )
    op.execute(
        "CREATE TRIGGER claim_note_written_once BEFORE UPDATE ON claim_note "
        "FOR EACH ROW EXECUTE FUNCTION claim_note_refuse_update()"
    )
    op.execute(
        f"""
        CREATE FUNCTION claim_note_refuse_truncate() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            RAISE EXCEPTION '{NOTE_KEPT_MESSAGE}' USING ERRCODE = 'restrict_violation';
        END;
        $$
        """
    )
    op.execute(
        "CREATE TRIGGER claim_note_never_truncated BEFORE TRUNCATE ON claim_note "
        "FOR EACH STATEMENT EXECUTE FUNCTION claim_note_refuse_truncate()"
    )


def create_snapshot_tables() -> None:
    op.create_table(
        "insurance_claim",
        sa.Column("claim_id", CLAIM_ID, nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("patient_control_number", sa.String(length=38), nullable=False),
        sa.Column("patient_first_name", sa.String(length=60), nullable=False),
        sa.Column("patient_last_name", sa.String(length=60), nullable=False),
        sa.Column("patient_date_of_birth", sa.Date(), nullable=False),
        sa.Column("patient_sex", sa.String(length=1), nullable=False),
        sa.Column("patient_member_id", sa.String(length=30), nullable=False),
        sa.Column("payer_id", sa.String(length=30), nullable=False),
        sa.Column("member_id", sa.String(length=30), nullable=False),
        sa.Column("group_number", sa.String(length=30), nullable=True),
        sa.Column("plan", sa.String(length=60), nullable=True),
        sa.Column("diagnosis_codes", JSON, nullable=False),
        sa.Column("total_charge", MONEY, nullable=False),
        sa.Column("frequency_code", sa.String(length=1), nullable=False),
        sa.Column("original_payer_claim_id", sa.String(length=30), nullable=True),
        sa.Column("taken_at", TIMESTAMP, nullable=False),
        created_at(),
        sa.PrimaryKeyConstraint("claim_id", "version", name="pk_insurance_claim"),
        sa.ForeignKeyConstraint(["claim_id"], ["claim.claim_id"], name="fk_insurance_claim_claim_id_claim"),
    )
    op.create_index("ix_insurance_claim_payer_id_member_id", "insurance_claim", ["payer_id", "member_id"])
    # the risk screen's history: a patient's earlier claims with the payer
    op.create_index(
        "ix_insurance_claim_payer_id_patient_member_id", "insurance_claim", ["payer_id", "patient_member_id"]
    )
    op.create_table(
        "claim_provider_info",
        *snapshot_key(),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("npi", sa.String(length=30), nullable=False),
        sa.Column("name", sa.String(length=60), nullable=True),
        sa.Column("tax_id", sa.String(length=30), nullable=True),
        created_at(),
        sa.PrimaryKeyConstraint("claim_id", "version", "role", name="pk_claim_provider_info"),
        snapshot_parent("claim_provider_info"),
    )
    op.create_index("ix_claim_provider_info_npi_role", "claim_provider_info", ["npi", "role"])
    op.create_table(
        "claim_test_relation",
        *snapshot_key(),
        sa.Column("line_number", sa.Integer(), nullable=False),
        sa.Column("procedure_code", sa.String(length=30), nullable=False),
        sa.Column("modifiers", JSON, nullable=False),
        sa.Column("charge", MONEY, nullable=False),
        sa.Column("units", sa.Integer(), nullable=False),
        sa.Column("service_date", sa.Date(), nullable=False),
        sa.Column("place_of_service", sa.String(length=2), nullable=False),
        sa.Column("diagnosis_pointers", JSON, nullable=False),
        sa.Column("line_control_number", sa.String(length=30), nullable=False),
        created_at(),
        sa.PrimaryKeyConstraint("claim_id", "version", "line_number", name="pk_claim_test_relation"),
        snapshot_parent("claim_test_relation"),
    )
    op.create_index(
        "ix_claim_test_relation_procedure_code_service_date", "claim_test_relation", ["procedure_code", "service_date"]
    )
    op.create_table(
        "bill_claim_relation",
        *snapshot_key(),
        sa.Column("bill_id", sa.String(length=30), nullable=False),
        created_at(),
        sa.PrimaryKeyConstraint("claim_id", "version", "bill_id", name="pk_bill_claim_relation"),
        snapshot_parent("bill_claim_relation"),
    )
    op.create_index("ix_bill_claim_relation_bill_id", "bill_claim_relation", ["bill_id"])


def create_audit_log() -> None:
    op.create_table(
        "audit_log",
        sa.Column("id", sa.BigInteger(), nullable=False, autoincrement=False),
        sa.Column("event_key", sa.String(length=200), nullable=False),
        sa.Column("claim_id", CLAIM_ID, nullable=True),
        sa.Column("actor", sa.String(length=64), nullable=False),
        sa.Column("action", sa.String(length=64), nullable=False),
        sa.Column("at", TIMESTAMP, nullable=False),
        sa.Column("details", JSON, nullable=False),
        created_at(),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("row_hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_audit_log"),
        sa.UniqueConstraint("event_key", name="uq_audit_log_event_key"),
    )
    op.create_index("ix_audit_log_claim_id_id", "audit_log", ["claim_id", "id"])
    create_audit_chain()
    # The database itself keeps the audit log append-only.
    op.execute(
        f"""
        CREATE FUNCTION audit_log_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            RAISE EXCEPTION '{APPEND_ONLY_MESSAGE}' USING ERRCODE = 'restrict_violation';
        END;
        $$
        """
    )
    op.execute(
        "CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log "
        "FOR EACH ROW EXECUTE FUNCTION audit_log_refuse_change()"
    )
    op.execute(
        "CREATE TRIGGER audit_log_never_truncated BEFORE TRUNCATE ON audit_log "
        "FOR EACH STATEMENT EXECUTE FUNCTION audit_log_refuse_change()"
    )


def create_audit_chain() -> None:
    """Hash-chain the audit log: a row's id is the one before's plus one, its prev_hash that row's row_hash, and its
    row_hash the SHA-256 of its canonical encoding (db/audit_chain.py computes the same to verify).

    audit_chain_head holds the chain's last id and hash in one row that each append locks FOR UPDATE: appends from
    every process are serialised there (in READ COMMITTED each waits for the last to commit, then reads its head;
    a stale snapshot fails instead of forking the chain). A row whose event_key exists is not written and does not
    move the chain. The function runs as the owner (SECURITY DEFINER): the application's role reads the head but
    cannot change it.
    """
    op.create_table(
        "audit_chain_head",
        sa.Column("id", sa.SmallInteger(), nullable=False, autoincrement=False),
        sa.Column("last_id", sa.BigInteger(), nullable=False),
        sa.Column("last_hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_audit_chain_head"),
        sa.CheckConstraint("id = 1", name=op.f("ck_audit_chain_head_one_row")),
    )
    op.execute(
        sa.text("INSERT INTO audit_chain_head (id, last_id, last_hash) VALUES (1, 0, :genesis)").bindparams(
            genesis=AUDIT_GENESIS_HASH
        )
    )
    op.execute(
        """
        CREATE FUNCTION audit_field(value text) RETURNS text LANGUAGE sql IMMUTABLE AS $$
            SELECT CASE WHEN value IS NULL THEN '~'
                        ELSE octet_length(convert_to(value, 'UTF8'))::text || ':' || value END || ';'
        $$
        """
    )
    op.execute(
        """
        CREATE FUNCTION audit_row_hash(
            id bigint, event_key text, claim_id text, actor text, action text, at timestamptz, details jsonb,
            created_at timestamptz, prev_hash text
        ) RETURNS text LANGUAGE sql IMMUTABLE AS $$
            SELECT encode(sha256(convert_to(
                'claimflow-audit-v1;'
                || audit_field(id::text) || audit_field(event_key) || audit_field(claim_id)
                || audit_field(actor) || audit_field(action)
                || audit_field((extract(epoch FROM at) * 1000000)::bigint::text)
                || audit_field(details::text)
                || audit_field((extract(epoch FROM created_at) * 1000000)::bigint::text)
                || audit_field(prev_hash),
                'UTF8')), 'hex')
        $$
        """
    )
    op.execute(
        """
        CREATE FUNCTION audit_log_chain() RETURNS trigger LANGUAGE plpgsql
        SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
        DECLARE
            head audit_chain_head%ROWTYPE;
        BEGIN
            SELECT * INTO STRICT head FROM audit_chain_head WHERE id = 1 FOR UPDATE;
            IF EXISTS (SELECT 1 FROM audit_log WHERE event_key = NEW.event_key) THEN
                RETURN NULL;  -- appended before: nothing written, the chain does not move
            END IF;
            NEW.id := head.last_id + 1;
            NEW.prev_hash := head.last_hash;
            NEW.row_hash := audit_row_hash(
                NEW.id, NEW.event_key, NEW.claim_id, NEW.actor, NEW.action, NEW.at, NEW.details, NEW.created_at,
                NEW.prev_hash
            );
            UPDATE audit_chain_head SET last_id = NEW.id, last_hash = NEW.row_hash WHERE id = 1;
            RETURN NEW;
        END;
        $$
        """
    )
    op.execute(
        "CREATE TRIGGER audit_log_chained BEFORE INSERT ON audit_log FOR EACH ROW EXECUTE FUNCTION audit_log_chain()"
    )


def create_rate_limit_window() -> None:
    # The API's request count per caller (a hash) and window, shared by its replicas; ended windows are purged.
    op.create_table(
        "rate_limit_window",
        sa.Column("window_start", TIMESTAMP, nullable=False),
        sa.Column("caller", sa.String(length=64), nullable=False),
        sa.Column("requests", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("window_start", "caller", name="pk_rate_limit_window"),
    )


def create_x12_interchange() -> None:
    # The interchange generated for a claim (its 837P), written once; control numbers never repeat (no cycle).
    op.execute("CREATE SEQUENCE x12_control_number START 1 MINVALUE 1 MAXVALUE 999999999 NO CYCLE")
    op.create_table(
        "x12_interchange",
        sa.Column("claim_id", CLAIM_ID, nullable=False),
        sa.Column("transaction_set", sa.String(length=8), nullable=False),
        sa.Column("interchange_control_number", sa.Integer(), nullable=False),
        sa.Column("group_control_number", sa.Integer(), nullable=False),
        sa.Column("transaction_control_number", sa.Integer(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        created_at(),
        sa.PrimaryKeyConstraint("claim_id", "transaction_set", name="pk_x12_interchange"),
        sa.ForeignKeyConstraint(["claim_id"], ["claim.claim_id"], name="fk_x12_interchange_claim_id_claim"),
        sa.UniqueConstraint("interchange_control_number", name="uq_x12_interchange_interchange_control_number"),
    )


def create_edit_tables() -> None:
    # The CMS scrubber tables (NCCI PTP pairs, MUEs, Medicare Code Editor lists), with their dates; loaded by
    # `claimflow codes import` from the quarterly files, and from the extract in db/seed for dev and tests.
    op.create_table(
        "ncci_ptp_edit",
        sa.Column("column1", sa.String(length=5), nullable=False),
        sa.Column("column2", sa.String(length=5), nullable=False),
        sa.Column("effective_date", sa.Date(), nullable=False),
        sa.Column("deletion_date", sa.Date(), nullable=True),
        sa.Column("modifier_indicator", sa.String(length=1), nullable=False),
        sa.Column("rationale", sa.String(length=255), nullable=False),
        sa.PrimaryKeyConstraint("column1", "column2", "effective_date", name="pk_ncci_ptp_edit"),
    )
    op.create_table(
        "mue_edit",
        sa.Column("code", sa.String(length=5), nullable=False),
        sa.Column("effective_date", sa.Date(), nullable=False),
        sa.Column("units", sa.Integer(), nullable=False),
        sa.Column("mai", sa.SmallInteger(), nullable=False),
        sa.Column("rationale", sa.String(length=100), nullable=False),
        sa.PrimaryKeyConstraint("code", "effective_date", name="pk_mue_edit"),
    )
    op.create_table(
        "mce_edit",
        sa.Column("code", sa.String(length=8), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("effective_date", sa.Date(), nullable=False),
        sa.Column("termination_date", sa.Date(), nullable=True),
        sa.PrimaryKeyConstraint("code", "kind", "effective_date", name="pk_mce_edit"),
    )


def create_ledger() -> None:
    """The remittance ledger (claim_ledger_entry) and the provider-level adjustments (PLB) beside it: append-only,
    each row written once under a unique posting key; reversals and corrections are new rows."""
    op.create_table(
        "claim_ledger_entry",
        sa.Column("id", sa.BigInteger(), sa.Identity(), nullable=False),
        sa.Column("claim_id", CLAIM_ID, nullable=False),
        sa.Column("posting_key", sa.String(length=300), nullable=False),
        sa.Column("remittance_id", sa.String(length=200), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("payer_claim_id", sa.String(length=64), nullable=False),
        sa.Column("line_number", sa.Integer(), nullable=True),
        sa.Column("billed", MONEY, nullable=False),
        sa.Column("allowed", MONEY, nullable=False),
        sa.Column("paid", MONEY, nullable=False),
        sa.Column("patient_responsibility", MONEY, nullable=False),
        sa.Column("adjustments", JSON, nullable=False),
        sa.Column("remark_codes", JSON, nullable=False),
        sa.Column("reverses", sa.String(length=200), nullable=True),
        sa.Column("at", TIMESTAMP, nullable=False),
        created_at(),
        sa.PrimaryKeyConstraint("id", name="pk_claim_ledger_entry"),
        sa.ForeignKeyConstraint(["claim_id"], ["claim.claim_id"], name="fk_claim_ledger_entry_claim_id_claim"),
        sa.UniqueConstraint("claim_id", "posting_key", name="uq_claim_ledger_entry_claim_id_posting_key"),
        sa.CheckConstraint(
            "kind IN ('adjudication', 'reversal', 'correction')", name=op.f("ck_claim_ledger_entry_kind")
        ),
    )
    op.create_table(
        "provider_adjustment",
        sa.Column("id", sa.BigInteger(), sa.Identity(), nullable=False),
        sa.Column("remittance_id", sa.String(length=200), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("payer_id", sa.String(length=30), nullable=False),
        sa.Column("provider_id", sa.String(length=30), nullable=False),
        sa.Column("fiscal_period_date", sa.Date(), nullable=True),
        sa.Column("reason_code", sa.String(length=4), nullable=False),
        sa.Column("reference", sa.String(length=60), nullable=False),
        sa.Column("amount", MONEY, nullable=False),
        created_at(),
        sa.PrimaryKeyConstraint("id", name="pk_provider_adjustment"),
        sa.UniqueConstraint("remittance_id", "position", name="uq_provider_adjustment_remittance_id_position"),
    )
    op.execute(
        f"""
        CREATE FUNCTION ledger_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            RAISE EXCEPTION '% is append-only: {LEDGER_APPEND_ONLY_MESSAGE}', TG_TABLE_NAME
                USING ERRCODE = 'restrict_violation';
        END;
        $$
        """
    )
    for table in ("claim_ledger_entry", "provider_adjustment"):
        op.execute(
            f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION ledger_refuse_change()"
        )
        op.execute(
            f"CREATE TRIGGER {table}_never_truncated BEFORE TRUNCATE ON {table} "
            "FOR EACH STATEMENT EXECUTE FUNCTION ledger_refuse_change()"
        )


def create_subscriptions() -> None:
    """Webhook subscriptions of organizations, and the log of every delivery attempt of every event to them."""
    op.create_table(
        "subscription",
        sa.Column("subscription_id", sa.String(length=32), nullable=False),
        sa.Column("org_id", sa.String(length=64), nullable=False),
        sa.Column("url", sa.String(length=2000), nullable=False),
        sa.Column("events", JSON, nullable=False),
        sa.Column("secret", sa.String(length=200), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        *timestamps(),
        sa.PrimaryKeyConstraint("subscription_id", name="pk_subscription"),
    )
    op.create_index("ix_subscription_org_id", "subscription", ["org_id"])
    op.create_table(
        "webhook_delivery",
        sa.Column("subscription_id", sa.String(length=32), nullable=False),
        sa.Column("claim_id", CLAIM_ID, nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("response_status", sa.Integer(), nullable=True),
        sa.Column("last_error", sa.String(length=200), nullable=True),
        sa.Column("delivered_at", TIMESTAMP, nullable=True),
        *timestamps(),
        sa.PrimaryKeyConstraint("subscription_id", "claim_id", "seq", name="pk_webhook_delivery"),
        sa.ForeignKeyConstraint(
            ["subscription_id"],
            ["subscription.subscription_id"],
            name="fk_webhook_delivery_subscription_id_subscription",
        ),
        sa.ForeignKeyConstraint(
            ["claim_id", "seq"],
            ["claim_status_history.claim_id", "claim_status_history.seq"],
            name="fk_webhook_delivery_claim_id_claim_status_history",
        ),
    )


def downgrade() -> None:
    for table in (
        "webhook_delivery",
        "subscription",
        "claim_document_version",
        "claim_document",
        "risk_rule",
        "integration_route",
        "integration",
        "provider_adjustment",
        "claim_ledger_entry",
        "mce_edit",
        "mue_edit",
        "ncci_ptp_edit",
        "x12_interchange",
        "rate_limit_window",
        "audit_chain_head",
        "audit_log",
        "bill_claim_relation",
        "claim_test_relation",
        "claim_provider_info",
        "insurance_claim",
        "payment",
        "claim_line_adjudication",
        "claim_status_history",
        "claim_note",
        "claim",
        "code_system_load",
        "cpt_code",
        "icd10_code",
        "assignment_rule_set",
        "adjuster",
        "patient",
        "provider",
        "payer",
    ):
        op.drop_table(table)  # indexes and triggers go with their table
    op.execute("DROP SEQUENCE x12_control_number")
    op.execute("DROP FUNCTION audit_log_refuse_change()")
    op.execute("DROP FUNCTION ledger_refuse_change()")
    op.execute("DROP FUNCTION audit_log_chain()")
    op.execute("DROP FUNCTION audit_row_hash(bigint, text, text, text, text, timestamptz, jsonb, timestamptz, text)")
    op.execute("DROP FUNCTION audit_field(text)")
    op.execute("DROP FUNCTION claim_note_refuse_update()")
    op.execute("DROP FUNCTION claim_note_refuse_truncate()")
