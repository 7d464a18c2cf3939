"""LedgerRepository: post payment answers to a claim's append-only ledger, read it back, keep PLB adjustments apart."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, ScalarSelect, Text, func, literal_column, select, text
from sqlalchemy.dialects.postgresql import aggregate_order_by

from db.models import ClaimLedgerEntry, ProviderAdjustmentRow
from db.repositories.base import Repository
from domain.ledger import (
    REMITTANCE_ID_PATTERN,
    LedgerEntry,
    LedgerSource,
    PaymentAnswer,
    ProviderAdjustment,
    post,
)

#: The columns a ledger read selects (never mapped objects), in posting order.
_ENTRY_COLUMNS = (
    ClaimLedgerEntry.posting_key,
    ClaimLedgerEntry.remittance_id,
    ClaimLedgerEntry.source,
    ClaimLedgerEntry.kind,
    ClaimLedgerEntry.at,
    ClaimLedgerEntry.payer_claim_id,
    ClaimLedgerEntry.line_number,
    ClaimLedgerEntry.billed,
    ClaimLedgerEntry.allowed,
    ClaimLedgerEntry.paid,
    ClaimLedgerEntry.patient_responsibility,
    ClaimLedgerEntry.adjustments,
    ClaimLedgerEntry.remark_codes,
    ClaimLedgerEntry.reverses,
)


#: Amounts travel through JSON as text: a JSON number would be read back as a float.
_AS_TEXT = frozenset({"billed", "allowed", "paid", "patient_responsibility"})


def ledger_json(claim_id: ColumnElement[str]) -> ScalarSelect[Any]:
    """A claim's ledger as one JSON array in posting order (a column of another query: no extra round trip)."""
    fields: list[Any] = []
    for column in _ENTRY_COLUMNS:
        fields += [literal_column(f"'{column.key}'"), column.cast(Text) if column.key in _AS_TEXT else column]
    entries = func.jsonb_agg(aggregate_order_by(func.jsonb_build_object(*fields), ClaimLedgerEntry.id))
    return (
        select(func.coalesce(entries, literal_column("'[]'::jsonb")))
        .where(ClaimLedgerEntry.claim_id == claim_id)
        .scalar_subquery()
    )


def entries_of(document: list[dict[str, Any]]) -> list[LedgerEntry]:
    """The entries of a ledger_json() array."""
    return [LedgerEntry.model_validate(entry) for entry in document]


#: The columns of a provider-level adjustment as the domain has them.
_PLB_COLUMNS = tuple(c for c in ProviderAdjustmentRow.__table__.columns if c.key not in ("id", "created_at"))


def provider_adjustments_json(claim_id: ColumnElement[str]) -> ScalarSelect[Any]:
    """The PLB adjustments of the 835s that posted to a claim's ledger, as one JSON array (by remittance and
    position): a column of another query, found through the unique (remittance, position) index."""
    remittances = (
        select(func.substring(ClaimLedgerEntry.remittance_id, REMITTANCE_ID_PATTERN))
        .where(ClaimLedgerEntry.claim_id == claim_id, ClaimLedgerEntry.source == LedgerSource.REMITTANCE.value)
        .distinct()
    )
    fields: list[Any] = []
    for column in _PLB_COLUMNS:
        fields += [literal_column(f"'{column.key}'"), column.cast(Text) if column.key == "amount" else column]
    order = aggregate_order_by(
        func.jsonb_build_object(*fields), ProviderAdjustmentRow.remittance_id, ProviderAdjustmentRow.position
    )
    return (
        select(func.coalesce(func.jsonb_agg(order), literal_column("'[]'::jsonb")))
        .where(ProviderAdjustmentRow.remittance_id.in_(remittances))
        .scalar_subquery()
    )


def provider_adjustments_of(document: list[dict[str, Any]]) -> list[ProviderAdjustment]:
    """The adjustments of a provider_adjustments_json() array."""
    return [ProviderAdjustment.model_validate(adjustment) for adjustment in document]


class LedgerRepository(Repository):
    """The ledger in the caller's transaction: rows are only ever inserted (the database refuses anything else)."""

    async def entries(self, claim_id: str) -> list[LedgerEntry]:
        """A claim's ledger, in the order it was posted."""
        stmt = select(*_ENTRY_COLUMNS).where(ClaimLedgerEntry.claim_id == claim_id).order_by(ClaimLedgerEntry.id)
        return [LedgerEntry.model_validate(row._asdict()) for row in (await self.session.execute(stmt)).all()]

    async def post(self, claim_id: str, answer: PaymentAnswer) -> list[LedgerEntry]:
        """Post an answer to the claim's ledger (domain.ledger.post); the entries written (none: posted before).

        Postings of one claim are serialised (a transaction-scoped advisory lock), so two answers posted at once
        each see the other's entries; a posting key written meanwhile is skipped, never written twice.
        """
        await self.session.execute(
            text("SELECT pg_advisory_xact_lock(hashtextextended('claim_ledger:' || :claim_id, 0))"),
            {"claim_id": claim_id},
        )
        new = post(await self.entries(claim_id), answer)
        if not new:
            return []
        rows = [_row(claim_id, entry) for entry in new]
        stmt = (
            self._insert(ClaimLedgerEntry)
            .values(rows)
            .on_conflict_do_nothing(index_elements=["claim_id", "posting_key"])
            .returning(ClaimLedgerEntry.posting_key)
        )
        written = set((await self.session.execute(stmt)).scalars())
        return [entry for entry in new if entry.posting_key in written]

    async def post_remittance(
        self, claim_id: str, answers: list[PaymentAnswer], provider_adjustments: list[ProviderAdjustment]
    ) -> list[LedgerEntry]:
        """Post an 835's answers about one claim and keep its PLB adjustments; what was written (a redelivered 835
        writes nothing)."""
        written: list[LedgerEntry] = []
        for answer in answers:
            written += await self.post(claim_id, answer)
        await self.record_provider_adjustments(provider_adjustments)
        return written

    async def record_provider_adjustments(self, adjustments: list[ProviderAdjustment]) -> int:
        """Keep a remittance's PLB adjustments (once per remittance and position); how many were new."""
        if not adjustments:
            return 0
        stmt = (
            self._insert(ProviderAdjustmentRow)
            .values([a.model_dump() for a in adjustments])
            .on_conflict_do_nothing(index_elements=["remittance_id", "position"])
            .returning(ProviderAdjustmentRow.id)
        )
        return len((await self.session.execute(stmt)).all())

    async def provider_adjustments(self, remittance_id: str) -> list[ProviderAdjustment]:
        """The PLB adjustments a remittance carried, by position."""
        stmt = (
            select(*_PLB_COLUMNS)
            .where(ProviderAdjustmentRow.remittance_id == remittance_id)
            .order_by(ProviderAdjustmentRow.position)
        )
        return [ProviderAdjustment.model_validate(row._asdict()) for row in (await self.session.execute(stmt)).all()]


def _row(claim_id: str, entry: LedgerEntry) -> dict[str, Any]:
    return (
        {"claim_id": claim_id}
        | entry.model_dump(mode="json")
        | {
            "billed": entry.billed,
            "allowed": entry.allowed,
            "paid": entry.paid,
            "patient_responsibility": entry.patient_responsibility,
            "at": entry.at,
        }
    )
