"""ClaimRepository: take claims in, snapshot them, record their status (with its note), adjudication and payment."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Any, TypeVar, get_args

from sqlalchemy import (
    BindParameter,
    ColumnElement,
    Select,
    String,
    and_,
    bindparam,
    func,
    or_,
    select,
    tuple_,
    update,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from db.base import utcnow
from db.errors import ClaimNotFoundError, NoteNotFoundError
from db.models import (
    Adjuster,
    ClaimLineAdjudication,
    ClaimNote,
    ClaimRegister,
    ClaimStatusHistory,
    InsuranceClaim,
    Payment,
)
from db.records import (
    EVERY_CLAIM,
    ClaimLink,
    ClaimPage,
    ClaimRecord,
    ClaimScope,
    ClaimSummary,
    IntakeResult,
    NoteKind,
    PaymentRecord,
    ScopeKind,
    StatusEntry,
)
from db.repositories.base import Repository, violated_constraint
from db.repositories.claim_writes import (
    ADJUDICATION_UPSERT,
    INTAKE,
    NOTE_DISCARD,
    NOTE_INSERT,
    PAYMENT_INSERT,
    RECORD_STATUS,
)
from db.repositories.cursor import decode_cursor, encode_cursor
from db.repositories.eligibility import eligibility_json, eligibility_of
from db.repositories.ledger import entries_of, ledger_json, provider_adjustments_json, provider_adjustments_of
from db.repositories.snapshots import SnapshotWriter
from domain.adjudication import LineAdjudication
from domain.claim import Claim, FrequencyCode
from domain.status import ClaimStatus

#: The register columns a listing shows (never the claim document).
SUMMARY_COLUMNS = (
    ClaimRegister.claim_id,
    ClaimRegister.org_id,
    ClaimRegister.patient_control_number,
    ClaimRegister.payer_id,
    ClaimRegister.status,
    ClaimRegister.total_charge,
    ClaimRegister.assigned_adjuster,
    ClaimRegister.payer_claim_id,
    ClaimRegister.created_at,
    ClaimRegister.updated_at,
)
#: Updates that bypass the ORM identity map (reads select columns, never mapped objects).
NO_SYNC = {"synchronize_session": False}
#: The foreign keys a note write can break (named in the migration, and by the naming convention in the models).
NOTE_CLAIM_FK = "fk_claim_note_claim_id_claim"
HISTORY_NOTE_FK = "fk_claim_status_history_note_id_claim_note"

#: The subject of a ClaimScope (an org id, an adjuster's or a supervisor's id): the scope conditions' one parameter.
_SUBJECT: BindParameter[str] = bindparam("subject", type_=String(64))
#: The team of the supervisor named by the scope's subject, if that supervisor is active (else NULL).
_SUPERVISORS_TEAM = (
    select(Adjuster.team)
    .where(Adjuster.adjuster_id == _SUBJECT, Adjuster.supervisor.is_(True), Adjuster.active.is_(True))
    .scalar_subquery()
)


#: Any SELECT (scoped keeps its row type).
_Select = TypeVar("_Select", bound="Select[*tuple[Any, ...]]")


def scope_condition(kind: ScopeKind) -> ColumnElement[bool] | None:
    """The WHERE condition that admits a scope's claims (its subject is the `subject` parameter); None: every claim."""
    match kind:
        case "organization":
            return ClaimRegister.org_id == _SUBJECT
        case "assigned":
            return ClaimRegister.assigned_adjuster == _SUBJECT
        case "team":
            team_members = select(Adjuster.adjuster_id).where(Adjuster.team == _SUPERVISORS_TEAM)
            unassigned_in_review = and_(
                ClaimRegister.status == ClaimStatus.IN_REVIEW.value, ClaimRegister.assigned_adjuster.is_(None)
            )
            return and_(
                _SUPERVISORS_TEAM.is_not(None),
                or_(ClaimRegister.assigned_adjuster.in_(team_members), unassigned_in_review),
            )
        case "all":
            return None


def scoped(stmt: _Select, scope: ClaimScope) -> tuple[_Select, dict[str, str]]:
    """The statement restricted to the scope's claims, and the parameters that condition needs."""
    condition = scope_condition(scope.kind)
    if condition is None:
        return stmt, {}
    assert scope.subject is not None  # ClaimScope requires one unless it is "all"
    return stmt.where(condition), {"subject": scope.subject}


#: get_record's three queries, built once (their parameters: the claim id, and a scoped head's subject) so a read
#: pays neither for building them nor for their cache keys; they select columns, so no mapped object is loaded.
_CLAIM_ID: BindParameter[str] = bindparam("claim_id", type_=String(32))
RECORD_HEAD = (
    select(
        *SUMMARY_COLUMNS,
        ClaimRegister.document,
        ClaimRegister.validation_errors,
        ClaimRegister.request_hash,
        ClaimRegister.idempotency_key,
        Payment.payment_id,
        Payment.amount.label("payment_amount"),
        Payment.paid_at,
        select(func.max(InsuranceClaim.version))
        .where(InsuranceClaim.claim_id == _CLAIM_ID)
        .scalar_subquery()
        .label("snapshot_version"),
        ledger_json(_CLAIM_ID).label("ledger"),
        provider_adjustments_json(_CLAIM_ID).label("provider_adjustments"),
        eligibility_json(_CLAIM_ID).label("eligibility"),
    )
    .outerjoin(Payment, Payment.claim_id == ClaimRegister.claim_id)
    .where(ClaimRegister.claim_id == _CLAIM_ID)
)
#: The head of a record within each kind of scope (the history and lines are read only once the head is found).
RECORD_HEADS: dict[ScopeKind, Select[*tuple[Any, ...]]] = {
    kind: RECORD_HEAD if (condition := scope_condition(kind)) is None else RECORD_HEAD.where(condition)
    for kind in get_args(ScopeKind)
}
RECORD_HISTORY = (
    select(
        ClaimStatusHistory.seq,
        ClaimStatusHistory.status,
        ClaimStatusHistory.reason,
        ClaimStatusHistory.at,
        ClaimStatusHistory.actor,
        ClaimNote.body.label("note"),
        ClaimNote.kind.label("note_kind"),
    )
    .outerjoin(ClaimNote, ClaimNote.note_id == ClaimStatusHistory.note_id)
    .where(ClaimStatusHistory.claim_id == _CLAIM_ID)
    .order_by(ClaimStatusHistory.seq)
)
RECORD_LINES = (
    select(
        ClaimLineAdjudication.line_number,
        ClaimLineAdjudication.billed,
        ClaimLineAdjudication.allowed,
        ClaimLineAdjudication.paid,
        ClaimLineAdjudication.adjustments,
        ClaimLineAdjudication.remark_codes,
    )
    .where(ClaimLineAdjudication.claim_id == _CLAIM_ID)
    .order_by(ClaimLineAdjudication.line_number)
)


def summary_fields(row: object) -> dict[str, Any]:
    """The ClaimSummary fields of a register row or summary row."""
    return {column.key: getattr(row, column.key) for column in SUMMARY_COLUMNS}


class ClaimRepository(Repository):
    """Claims, their snapshots and everything recorded about them, in the caller's transaction."""

    def __init__(self, session: AsyncSession) -> None:
        super().__init__(session)
        self._snapshots = SnapshotWriter(session)

    async def intake(
        self,
        *,
        claim_id: str,
        org_id: str,
        idempotency_key: str | None,
        request_hash: str,
        claim: Claim,
        received_at: datetime,
    ) -> IntakeResult:
        """Register a claim, race-safely: when this claim id or this (org, idempotency key) is
        already taken, write nothing and return the existing claim with created=False."""
        actor = f"org:{org_id}"
        params = {
            "claim": claim_id,
            "org_id": org_id,
            "idempotency_key": idempotency_key,
            "request_hash": request_hash,
            "patient_control_number": claim.patient_control_number,
            "payer_id": claim.insurance.payer_id,
            "total_charge": claim.total_charge,
            "document": claim.model_dump(mode="json"),
            # the register's status and history row 0
            "seq": 0,
            "status": ClaimStatus.RECEIVED.value,
            "reason": "received",
            "at": received_at,
            "actor": actor,
            "now": utcnow(),
            # the audit row
            "action": "claim.received",
            "details": {"status": ClaimStatus.RECEIVED.value, "seq": 0, "payer_id": claim.insurance.payer_id},
            "event_key": f"claim:{claim_id}:received",
        }
        if not await self._wrote(INTAKE, params):
            return await self._existing(claim_id, org_id, idempotency_key)
        return IntakeResult(claim_id=claim_id, created=True, request_hash=request_hash)

    async def _existing(self, claim_id: str, org_id: str, idempotency_key: str | None) -> IntakeResult:
        columns = select(ClaimRegister.claim_id, ClaimRegister.request_hash)
        row = None
        if idempotency_key is not None:
            by_key = columns.where(ClaimRegister.org_id == org_id, ClaimRegister.idempotency_key == idempotency_key)
            row = (await self.session.execute(by_key)).one_or_none()
        if row is None:
            row = (await self.session.execute(columns.where(ClaimRegister.claim_id == claim_id))).one()
        return IntakeResult(claim_id=row.claim_id, created=False, request_hash=row.request_hash)

    async def get_record(self, claim_id: str, *, scope: ClaimScope = EVERY_CLAIM) -> ClaimRecord | None:
        """Everything recorded about a claim, in three queries; None if there is no such claim within `scope`
        (by default every claim: the engine's view; a read for a caller passes the caller's scope)."""
        params = {"claim_id": claim_id} | ({} if scope.subject is None else {"subject": scope.subject})
        found = (await self.session.execute(RECORD_HEADS[scope.kind], params)).one_or_none()
        if found is None:
            return None
        history = (await self.session.execute(RECORD_HISTORY, {"claim_id": claim_id})).all()
        lines = (await self.session.execute(RECORD_LINES, {"claim_id": claim_id})).all()
        return ClaimRecord(
            **summary_fields(found),
            claim=Claim.model_validate(found.document),
            validation_errors=found.validation_errors,
            status_history=[
                StatusEntry(
                    seq=h.seq,
                    status=ClaimStatus(h.status),
                    reason=h.reason,
                    at=h.at,
                    actor=h.actor,
                    note=h.note,
                    note_kind=h.note_kind,
                )
                for h in history
            ],
            adjudication=[
                LineAdjudication(
                    line_number=line.line_number,
                    billed=line.billed,
                    allowed=line.allowed,
                    paid=line.paid,
                    adjustments=line.adjustments,  # plain JSON, validated into Adjustment
                    remark_codes=line.remark_codes,
                )
                for line in lines
            ],
            ledger=entries_of(found.ledger),
            provider_adjustments=provider_adjustments_of(found.provider_adjustments),
            eligibility=eligibility_of(found.eligibility),
            snapshot_version=found.snapshot_version,
            payment=None
            if found.payment_id is None
            else PaymentRecord(payment_id=found.payment_id, amount=found.payment_amount, paid_at=found.paid_at),
            request_hash=found.request_hash,
            idempotency_key=found.idempotency_key,
        )

    async def list_page(
        self,
        *,
        scope: ClaimScope,
        status: ClaimStatus | None,
        payer_id: str | None,
        adjuster: str | None,
        limit: int,
        cursor: str | None,
    ) -> ClaimPage:
        """The claims within `scope`, newest first, filtered, one page at a time (keyset on created_at, claim_id)."""
        if limit < 1:
            raise ValueError(f"limit must be at least 1, not {limit}")
        stmt, params = scoped(select(*SUMMARY_COLUMNS), scope)
        if status is not None:
            stmt = stmt.where(ClaimRegister.status == status.value)
        if payer_id is not None:
            stmt = stmt.where(ClaimRegister.payer_id == payer_id)
        if adjuster is not None:
            stmt = stmt.where(ClaimRegister.assigned_adjuster == adjuster)
        if cursor is not None:
            created_at, after_id = decode_cursor(cursor, datetime, str)
            stmt = stmt.where(tuple_(ClaimRegister.created_at, ClaimRegister.claim_id) < (created_at, after_id))
        stmt = stmt.order_by(ClaimRegister.created_at.desc(), ClaimRegister.claim_id.desc()).limit(limit + 1)
        rows = (await self.session.execute(stmt, params)).all()
        items = [ClaimSummary(**summary_fields(row)) for row in rows[:limit]]
        next_cursor = encode_cursor(items[-1].created_at, items[-1].claim_id) if len(rows) > limit else None
        return ClaimPage(items=items, next_cursor=next_cursor)

    async def load_claim(self, claim_id: str) -> Claim:
        """The claim document as submitted; ClaimNotFoundError if there is no such claim."""
        document = await self.session.scalar(select(ClaimRegister.document).where(ClaimRegister.claim_id == claim_id))
        if document is None:
            raise ClaimNotFoundError(claim_id)
        return Claim.model_validate(document)

    async def write_snapshot(self, *, claim_id: str, version: int, claim: Claim, taken_at: datetime) -> bool:
        """Write the immutable snapshot of this claim version; False (and nothing written) if it exists.
        ClaimNotFoundError if the claim was never taken in (the transaction must then be rolled back)."""
        try:
            return await self._snapshots.write(claim_id=claim_id, version=version, claim=claim, taken_at=taken_at)
        except IntegrityError as error:  # the only constraint the header can break: the claim's foreign key
            raise ClaimNotFoundError(claim_id) from error

    async def record_status(
        self,
        *,
        claim_id: str,
        seq: int,
        status: ClaimStatus,
        reason: str,
        at: datetime,
        actor: str,
        assigned_adjuster: str | None = None,
        payer_claim_id: str | None = None,
        validation_errors: list[dict[str, str]] | None = None,
        note_id: str | None = None,
        review_due_at: datetime | None = None,
        risk_score: int | None = None,
    ) -> bool:
        """Record status change number `seq` once; False (nothing written) if it was recorded before.

        The register moves only forward: a change recorded late (seq not above the stored one)
        enters the history and the audit log but leaves the current status, assignment and
        validation errors alone. A payer claim id is a fact, not a state: it fills an empty one.
        `note_id` (one of this claim's notes, see add_note) goes on the history row; the audit row
        names its id, never its text.
        ClaimNotFoundError if the claim was never taken in, NoteNotFoundError if the note is not one
        of the claim's notes (the transaction must then be rolled back).
        """
        details: dict[str, object] = {"status": status.value, "reason": reason, "seq": seq}
        if note_id is not None:
            details["note_id"] = note_id
        params = {
            "claim": claim_id,
            "seq": seq,
            "status": status.value,
            "reason": reason,
            "at": at,
            "actor": actor,
            "now": utcnow(),
            # the register's optional fields: None leaves the stored value alone
            "assigned_adjuster": assigned_adjuster,
            "payer_claim_id": payer_claim_id,
            "validation_errors": validation_errors,
            "review_due_at": review_due_at,
            "risk_score": risk_score,
            "note_id": note_id,
            # the audit row
            "action": "claim.status_changed",
            "details": details,
            "event_key": f"claim:{claim_id}:status:{seq}",
        }
        try:
            return await self._wrote(RECORD_STATUS, params)
        except IntegrityError as error:  # the only constraints a status change can break: the history row's keys
            if note_id is not None and violated_constraint(error) == HISTORY_NOTE_FK:
                raise NoteNotFoundError(claim_id, note_id) from error
            raise ClaimNotFoundError(claim_id) from error

    async def add_note(self, *, claim_id: str, kind: NoteKind, body: str, author: str, at: datetime) -> str:
        """Store a note (before the update that carries its id is sent); its new id (uuid4 hex).

        `author` is the actor's label; `at` becomes the note's created_at. ClaimNotFoundError if the
        claim was never taken in; an empty body, one over NOTE_BODY_MAX_CHARS characters or an unknown
        kind is refused by the database (IntegrityError). Either way the transaction must be rolled back.
        """
        note_id = uuid.uuid4().hex
        params = {"note_id": note_id, "claim": claim_id, "kind": kind, "body": body, "author": author, "at": at}
        try:
            await self.session.execute(NOTE_INSERT, params)
        except IntegrityError as error:
            if violated_constraint(error) == NOTE_CLAIM_FK:
                raise ClaimNotFoundError(claim_id) from error
            raise
        return note_id

    async def discard_note(self, note_id: str) -> bool:
        """Delete a note no status change refers to (its update was refused); whether it was deleted.

        A note a status change refers to is kept (False), also when that change is being recorded at this
        moment: the foreign key refuses the delete, inside a savepoint, so the transaction stays usable.
        An unknown note id is False.
        """
        try:
            async with self.session.begin_nested():
                return await self._wrote(NOTE_DISCARD, {"note_id": note_id})
        except IntegrityError as error:
            if violated_constraint(error) == HISTORY_NOTE_FK:
                return False
            raise

    async def record_adjudication(
        self, *, claim_id: str, lines: list[LineAdjudication], source: str, at: datetime
    ) -> None:
        """Upsert the adjudication of each line; `source` is "processor" or "adjuster"."""
        if not lines:
            return
        now = utcnow()
        rows = [
            {
                "claim": claim_id,
                "line_number": line.line_number,
                "billed": line.billed,
                "allowed": line.allowed,
                "paid": line.paid,
                "adjustments": [adjustment.model_dump(mode="json") for adjustment in line.adjustments],
                "remark_codes": list(line.remark_codes),
                "source": source,
                "adjudicated_at": at,
                "now": now,
            }
            for line in lines
        ]
        await self.session.execute(ADJUDICATION_UPSERT, rows)

    async def record_payment(self, *, claim_id: str, payment_id: str, amount: Decimal, paid_at: datetime) -> bool:
        """Record the claim's one payment; False (nothing written) if the claim or payment id has one."""
        params = {"payment_id": payment_id, "claim": claim_id, "amount": amount, "paid_at": paid_at, "now": utcnow()}
        return await self._wrote(PAYMENT_INSERT, params)

    async def assign(self, claim_id: str, adjuster_id: str) -> None:
        """Put the claim on an adjuster's desk in the register, before the workflow shows it there: whoever the
        workflow names as the assignee can read the claim at once (their scope reads the register)."""
        await self.session.execute(
            update(ClaimRegister).where(ClaimRegister.claim_id == claim_id).values(assigned_adjuster=adjuster_id)
        )

    async def assignee(self, claim_id: str) -> str | None:
        """Who the claim is assigned to now, as the register says."""
        return await self.session.scalar(
            select(ClaimRegister.assigned_adjuster).where(ClaimRegister.claim_id == claim_id)
        )

    # ---- lineage: replacements (frequency 7) and voids (frequency 8) of an original ----------------------

    async def link_original(self, claim_id: str, original_claim_id: str) -> None:
        """Name the original a new replacement or void claim stands for (set once, at its intake)."""
        await self.session.execute(
            update(ClaimRegister)
            .where(ClaimRegister.claim_id == claim_id, ClaimRegister.replaces_claim_id.is_(None))
            .values(replaces_claim_id=original_claim_id)
        )

    async def lock_for_lineage(self, claim_id: str) -> None:
        """Hold the claim's register row until the transaction ends, so two replacements or voids of one original
        are checked and taken in one at a time."""
        await self.session.execute(
            select(ClaimRegister.claim_id).where(ClaimRegister.claim_id == claim_id).with_for_update()
        )

    async def original_of(self, claim_id: str) -> ClaimLink | None:
        """The original this claim replaces or voids (its status, status seq and payer claim id); None if none."""
        original = ClaimRegister.__table__.alias("original")
        row = (
            await self.session.execute(
                select(original.c.claim_id, original.c.status, original.c.status_seq, original.c.payer_claim_id)
                .select_from(ClaimRegister)
                .join(original, original.c.claim_id == ClaimRegister.replaces_claim_id)
                .where(ClaimRegister.claim_id == claim_id)
            )
        ).one_or_none()
        return None if row is None else _link(row)

    async def successors(self, claim_id: str) -> list[ClaimLink]:
        """The claims that replace or void this one (with their frequency code), oldest first."""
        rows = (
            await self.session.execute(
                select(
                    ClaimRegister.claim_id,
                    ClaimRegister.status,
                    ClaimRegister.status_seq,
                    ClaimRegister.payer_claim_id,
                    ClaimRegister.document["frequency_code"].astext.label("frequency_code"),
                )
                .where(ClaimRegister.replaces_claim_id == claim_id)
                .order_by(ClaimRegister.created_at, ClaimRegister.claim_id)
            )
        ).all()
        return [_link(row) for row in rows]

    async def note_of(self, claim_id: str, kind: NoteKind) -> str | None:
        """The id of the claim's first note of this kind (a void's reason), if it has one."""
        return await self.session.scalar(
            select(ClaimNote.note_id)
            .where(ClaimNote.claim_id == claim_id, ClaimNote.kind == kind)
            .order_by(ClaimNote.created_at)
            .limit(1)
        )

    async def find_duplicates(
        self,
        *,
        claim_id: str,
        org_id: str,
        payer_id: str,
        member_id: str,
        billing_npi: str,
        lines: list[tuple[str, date]],
    ) -> dict[tuple[str, date], str]:
        """For each (procedure code, service date), another accepted claim of the organization (not this one)
        that billed it for the same payer, member id and billing NPI."""
        return await self._snapshots.find_duplicates(
            claim_id=claim_id,
            org_id=org_id,
            payer_id=payer_id,
            member_id=member_id,
            billing_npi=billing_npi,
            lines=lines,
        )


def _link(row: Any) -> ClaimLink:
    return ClaimLink(
        claim_id=row.claim_id,
        status=ClaimStatus(row.status),
        status_seq=row.status_seq,
        payer_claim_id=row.payer_claim_id,
        frequency_code=FrequencyCode(getattr(row, "frequency_code", None) or FrequencyCode.ORIGINAL),
    )
