"""A claim's hot writes (intake, status change, payment, adjudication, notes) as statements built once: one round
trip each.

Every statement here is Core on the models' Tables with named bound parameters, built at import and
executed with a params dict, so a call pays neither for building a statement nor for its cache key.
The parameter names are one vocabulary (see `ClaimRepository.intake` and `.record_status`), so one
params dict serves every part of a write. No name may be the name of a column a statement
updates without setting it: SQLAlchemy turns such a key of the params dict into one more SET
column. So the claim id is `claim`, never `claim_id`. Intake and status change are one statement each
(data-modifying CTEs); a write that returns no row had been written before.
"""

from __future__ import annotations

from sqlalchemy import CTE, Select, and_, case, delete, exists, func, literal, or_, select, update
from sqlalchemy.dialects.postgresql import Insert, insert

from db.models import ClaimLineAdjudication, ClaimNote, ClaimRegister, ClaimStatusHistory, Payment
from db.repositories.audit import AUDIT_LOG
from db.statements import OPTIONAL_JSON, param, table_of

CLAIM = table_of(ClaimRegister)
HISTORY = table_of(ClaimStatusHistory)
PAYMENT = table_of(Payment)
LINE_ADJUDICATION = table_of(ClaimLineAdjudication)
NOTE = table_of(ClaimNote)

# The vocabulary, one BindParameter per name (a name used twice in one statement is one parameter).
# History row and audit row:
_CLAIM_ID = param(CLAIM.c.claim_id, "claim")
_SEQ = param(HISTORY.c.seq)
_STATUS = param(HISTORY.c.status)
_REASON = param(HISTORY.c.reason)
_AT = param(HISTORY.c.at)
_ACTOR = param(HISTORY.c.actor)
_NOW = param(HISTORY.c.created_at, "now")  # created_at/updated_at: what the models' Python defaults would set
_NOTE_ID = param(HISTORY.c.note_id)  # the status change's note, or None
_ACTION = param(AUDIT_LOG.c.action)
_DETAILS = param(AUDIT_LOG.c.details)
_EVENT_KEY = param(AUDIT_LOG.c.event_key)
# Intake (the register row; its status, status_seq and times are the history row's status, seq and at):
_INTAKE_VALUES = {
    "claim_id": _CLAIM_ID,
    **{
        name: param(CLAIM.c[name])
        for name in (
            "org_id",
            "idempotency_key",
            "request_hash",
            "patient_control_number",
            "payer_id",
            "total_charge",
            "document",
        )
    },
    "status": _STATUS,
    "status_seq": _SEQ,
    "validation_errors": literal([], CLAIM.c.validation_errors.type),
    "created_at": _AT,
    "updated_at": _AT,
}
# Status change: None leaves the register's value alone.
_ADJUSTER = param(CLAIM.c.assigned_adjuster)
_PAYER_CLAIM_ID = param(CLAIM.c.payer_claim_id)
_VALIDATION_ERRORS = param(CLAIM.c.validation_errors, type_=OPTIONAL_JSON)
_REVIEW_DUE_AT = param(CLAIM.c.review_due_at)
_RISK_SCORE = param(CLAIM.c.risk_score)

#: The status change is newer than the register's (compared with the row before the update, as SET does).
_AHEAD = CLAIM.c.status_seq < _SEQ
#: Which register rows a status change touches: the claim, when the change is newer or brings a payer claim id
#: the register lacks (a payer claim id is a fact, not a state: a late change still fills an empty one).
_REGISTER_TOUCHED = and_(
    CLAIM.c.claim_id == _CLAIM_ID,
    or_(_AHEAD, and_(CLAIM.c.payer_claim_id.is_(None), _PAYER_CLAIM_ID.is_not(None))),
)
#: What it sets: a newer change moves status and seq and sets the optional fields it brings; a late one
#: only fills the payer claim id.
_REGISTER_CHANGES = {
    "status": case((_AHEAD, _STATUS), else_=CLAIM.c.status),
    "status_seq": case((_AHEAD, _SEQ), else_=CLAIM.c.status_seq),
    "assigned_adjuster": case(
        (_AHEAD, func.coalesce(_ADJUSTER, CLAIM.c.assigned_adjuster)), else_=CLAIM.c.assigned_adjuster
    ),
    "payer_claim_id": case(
        (_AHEAD, func.coalesce(_PAYER_CLAIM_ID, CLAIM.c.payer_claim_id)),
        else_=func.coalesce(CLAIM.c.payer_claim_id, _PAYER_CLAIM_ID),
    ),
    "validation_errors": case(
        (_AHEAD, func.coalesce(_VALIDATION_ERRORS, CLAIM.c.validation_errors)), else_=CLAIM.c.validation_errors
    ),
    "review_due_at": case((_AHEAD, func.coalesce(_REVIEW_DUE_AT, CLAIM.c.review_due_at)), else_=CLAIM.c.review_due_at),
    "risk_score": case((_AHEAD, func.coalesce(_RISK_SCORE, CLAIM.c.risk_score)), else_=CLAIM.c.risk_score),
    "updated_at": _NOW,
}
#: What a line's adjudication replaces when the line was adjudicated before (an adjuster's decision after the
#: processor's, or a retried record).
_ADJUDICATION_REPLACED = (
    "billed",
    "allowed",
    "paid",
    "adjustments",
    "remark_codes",
    "source",
    "adjudicated_at",
    "updated_at",
)


def _audit_from(rows: CTE) -> CTE:
    """INSERT the audit row once per row of `rows` (zero or one: the history or register row just written)."""
    stmt = (
        insert(AUDIT_LOG)
        .from_select(
            ["event_key", "claim_id", "actor", "action", "at", "details", "created_at"],
            select(_EVENT_KEY, rows.c.claim_id, _ACTOR, _ACTION, _AT, _DETAILS, _NOW),
        )
        .on_conflict_do_nothing(index_elements=[AUDIT_LOG.c.event_key])
    )
    return stmt.cte("audit")


def _intake() -> Select[tuple[str]]:
    """WITH registered AS (INSERT claim ... ON CONFLICT DO NOTHING RETURNING claim_id),
    history AS (INSERT claim_status_history SELECT ... FROM registered),
    audit AS (INSERT audit_log SELECT ... FROM registered ON CONFLICT (event_key) DO NOTHING)
    SELECT claim_id FROM registered: a row when the claim was registered, none when it was taken."""
    registered = (
        insert(CLAIM).values(_INTAKE_VALUES).on_conflict_do_nothing().returning(CLAIM.c.claim_id).cte("registered")
    )
    history = (
        insert(HISTORY)
        .from_select(
            ["claim_id", "seq", "status", "reason", "at", "actor", "created_at"],
            select(registered.c.claim_id, _SEQ, _STATUS, _REASON, _AT, _ACTOR, _NOW),
        )
        .cte("history")
    )
    return select(registered.c.claim_id).add_cte(history, _audit_from(registered))


def _status() -> Select[tuple[str]]:
    """WITH history AS (INSERT claim_status_history ... ON CONFLICT DO NOTHING RETURNING claim_id),
    audit AS (INSERT audit_log SELECT ... FROM history ON CONFLICT (event_key) DO NOTHING),
    register AS (UPDATE claim SET ... WHERE ... AND EXISTS (SELECT FROM history))
    SELECT claim_id FROM history: a row when the change was recorded, none when it had been before.
    (Every part sees the database as it was before the statement; the CTEs see each other's RETURNING.)"""
    history = (
        insert(HISTORY)
        .values(
            claim_id=_CLAIM_ID,
            seq=_SEQ,
            status=_STATUS,
            reason=_REASON,
            at=_AT,
            actor=_ACTOR,
            note_id=_NOTE_ID,
            created_at=_NOW,
        )
        .on_conflict_do_nothing(index_elements=[HISTORY.c.claim_id, HISTORY.c.seq])
        .returning(HISTORY.c.claim_id)
        .cte("history")
    )
    register = (
        update(CLAIM)
        .where(_REGISTER_TOUCHED, select(history.c.claim_id).exists())
        .values(_REGISTER_CHANGES)
        .cte("register")
    )
    return select(history.c.claim_id).add_cte(_audit_from(history), register)


def _adjudication_upsert() -> Insert:
    """INSERT one line's adjudication, or replace the line's earlier one (run once per line: executemany)."""
    line = insert(LINE_ADJUDICATION).values(
        claim_id=_CLAIM_ID,
        **{
            name: param(LINE_ADJUDICATION.c[name])
            for name in ("line_number", *_ADJUDICATION_REPLACED)
            if name != "updated_at"
        },
        created_at=_NOW,
        updated_at=_NOW,
    )
    return line.on_conflict_do_update(
        index_elements=[LINE_ADJUDICATION.c.claim_id, LINE_ADJUDICATION.c.line_number],
        set_={name: line.excluded[name] for name in _ADJUDICATION_REPLACED},
    )


#: Register row, history row 0 and the audit row, unless the claim id or idempotency key is taken.
INTAKE = _intake()
#: History row `seq` (with its note id), its audit row and the register update, unless history row `seq` exists.
#: A missing claim, or a note id that is not one of the claim's notes, raises IntegrityError (the history row's
#: foreign keys).
RECORD_STATUS = _status()
#: The claim's one payment, unless the claim or the payment id has one: RETURNING its id when it was written.
PAYMENT_INSERT = (
    insert(PAYMENT)
    .values(
        payment_id=param(PAYMENT.c.payment_id),
        claim_id=_CLAIM_ID,
        amount=param(PAYMENT.c.amount),
        paid_at=param(PAYMENT.c.paid_at),
        created_at=_NOW,
    )
    .on_conflict_do_nothing()
    .returning(PAYMENT.c.payment_id)
)
#: Each line's adjudication, replacing the line's earlier one.
ADJUDICATION_UPSERT = _adjudication_upsert()
#: One note, written once: its id is made by the caller. A missing claim, an empty or too long body or an unknown
#: kind raises IntegrityError.
NOTE_INSERT = insert(NOTE).values(
    note_id=_NOTE_ID,
    claim_id=_CLAIM_ID,
    kind=param(NOTE.c.kind),
    body=param(NOTE.c.body),
    author=param(NOTE.c.author),
    created_at=param(NOTE.c.created_at, "at"),
)
#: Delete a note no status-history row refers to, RETURNING its id when it was deleted. A row recorded
#: concurrently (not yet visible to the NOT EXISTS) makes the foreign key refuse the delete: IntegrityError.
NOTE_DISCARD = (
    delete(NOTE)
    .where(NOTE.c.note_id == _NOTE_ID, ~exists().where(HISTORY.c.note_id == _NOTE_ID))
    .returning(NOTE.c.note_id)
)
