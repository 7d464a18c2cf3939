"""Notes (decision, information, cancellation): stored before the update, shown with their status change, kept out
of the audit log; written once, and discarded only while no status change refers to them."""

from __future__ import annotations

import asyncio
import json
import re
from typing import Any

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError, IntegrityError

from activities.claim_records import ClaimRecordActivities
from activities.contracts import RecordStatusChangesInput, StatusDetails, StatusRecord
from db.errors import ClaimNotFoundError, NoteNotFoundError
from db.models import AuditLog, ClaimNote, ClaimStatusHistory
from db.models.claim_note import NOTE_BODY_MAX_CHARS
from db.uow import UnitOfWork
from domain.status import ClaimStatus
from tests.db.helpers import T0, add_note, at, new_claim_id, record, statements_run, take_in

PHI_NOTE = "Ana Ruiz, DOB 1980-04-02: requisition attached as DOC-9"


async def notes(sessions: Any, claim_id: str) -> list[Any]:
    async with sessions() as session:
        table = ClaimNote.__table__
        query = select(table).where(table.c.claim_id == claim_id).order_by(table.c.created_at)
        return list((await session.execute(query)).all())


async def note_ids_in_history(sessions: Any, claim_id: str) -> list[str | None]:
    async with sessions() as session:
        query = (
            select(ClaimStatusHistory.note_id)
            .where(ClaimStatusHistory.claim_id == claim_id)
            .order_by(ClaimStatusHistory.seq)
        )
        return list((await session.scalars(query)).all())


async def get(sessions: Any, claim_id: str) -> Any:
    async with UnitOfWork(sessions) as uow:
        found = await uow.claims.get_record(claim_id)
    assert found is not None
    return found


async def discard(sessions: Any, note_id: str) -> bool:
    async with UnitOfWork(sessions) as uow:
        discarded = await uow.claims.discard_note(note_id)
        await uow.commit()
    return discarded


class TestAddNote:
    async def test_a_note_is_stored_with_its_kind_author_and_time_under_a_new_id(self, session_factory):
        claim_id = (await take_in(session_factory)).claim_id

        note_id = await add_note(
            session_factory, claim_id, kind="information", body=PHI_NOTE, author="org:org-1", written_at=at(3)
        )

        assert re.fullmatch(r"[0-9a-f]{32}", note_id)
        [note] = await notes(session_factory, claim_id)
        assert (note.note_id, note.kind, note.body, note.author, note.created_at) == (
            note_id,
            "information",
            PHI_NOTE,
            "org:org-1",
            at(3),
        )
        assert await add_note(session_factory, claim_id) != note_id

    async def test_a_note_for_a_missing_claim_raises_claim_not_found(self, session_factory):
        missing = new_claim_id()
        async with UnitOfWork(session_factory) as uow:
            with pytest.raises(ClaimNotFoundError, match=missing):
                await uow.claims.add_note(claim_id=missing, kind="decision", body="b", author="a", at=T0)

    async def test_a_body_of_the_longest_length_is_stored(self, session_factory):
        claim_id = (await take_in(session_factory)).claim_id

        await add_note(session_factory, claim_id, body="x" * NOTE_BODY_MAX_CHARS)

        assert len((await notes(session_factory, claim_id))[0].body) == 2000

    @pytest.mark.parametrize(
        ("body", "kind", "constraint"),
        [
            ("x" * (NOTE_BODY_MAX_CHARS + 1), "decision", "ck_claim_note_body_length"),
            ("é" * (NOTE_BODY_MAX_CHARS + 1), "decision", "ck_claim_note_body_length"),  # characters, not bytes
            ("", "decision", "ck_claim_note_body_length"),
            ("b", "comment", "ck_claim_note_kind"),
        ],
        ids=["over-2000-chars", "over-2000-multibyte-chars", "empty", "unknown-kind"],
    )
    async def test_the_database_refuses_a_note_that_breaks_its_checks(self, session_factory, body, kind, constraint):
        claim_id = (await take_in(session_factory)).claim_id

        async with UnitOfWork(session_factory) as uow:
            with pytest.raises(IntegrityError, match=f'"{constraint}"'):
                await uow.claims.add_note(claim_id=claim_id, kind=kind, body=body, author="a", at=T0)

        assert await notes(session_factory, claim_id) == []

    async def test_the_database_refuses_to_change_a_note(self, session_factory, owner_engine):
        claim_id = (await take_in(session_factory)).claim_id
        await add_note(session_factory, claim_id, body="original")

        async with UnitOfWork(session_factory) as uow:  # the application's role has no UPDATE on notes
            with pytest.raises(DBAPIError, match="permission denied"):
                await uow.session.execute(text("UPDATE claim_note SET body = 'rewritten'"))
        async with owner_engine.connect() as owner:  # and the trigger refuses even the owner
            with pytest.raises(DBAPIError, match="written once"):
                await owner.execute(text("UPDATE claim_note SET body = 'rewritten'"))

        assert [note.body for note in await notes(session_factory, claim_id)] == ["original"]


class TestRecordStatusWithANote:
    async def test_get_record_shows_the_note_on_the_status_change_made_with_it(self, session_factory):
        claim_id = (await take_in(session_factory)).claim_id
        await record(session_factory, claim_id, 1, ClaimStatus.IN_REVIEW)
        asked = await add_note(session_factory, claim_id, kind="decision", body="send the requisition")
        await record(session_factory, claim_id, 2, ClaimStatus.INFO_REQUESTED, note_id=asked)
        answered = await add_note(session_factory, claim_id, kind="information", body=PHI_NOTE, author="org:org-1")
        await record(session_factory, claim_id, 3, ClaimStatus.IN_REVIEW, note_id=answered)

        found = await get(session_factory, claim_id)

        assert [(h.seq, h.status, h.note, h.note_kind) for h in found.status_history] == [
            (0, ClaimStatus.RECEIVED, None, None),
            (1, ClaimStatus.IN_REVIEW, None, None),
            (2, ClaimStatus.INFO_REQUESTED, "send the requisition", "decision"),
            (3, ClaimStatus.IN_REVIEW, PHI_NOTE, "information"),
        ]

    async def test_get_record_still_takes_three_queries(self, session_factory):
        claim_id = (await take_in(session_factory)).claim_id
        note_id = await add_note(session_factory, claim_id, kind="cancellation", body="duplicate order")
        await record(session_factory, claim_id, 1, ClaimStatus.CANCELLED, note_id=note_id)

        async with UnitOfWork(session_factory) as uow:
            await uow.session.execute(text("SELECT 1"))  # the transaction has begun: BEGIN is not counted
            with statements_run(session_factory) as sent:
                found = await uow.claims.get_record(claim_id)

        assert len(sent) == 3
        assert found is not None and found.status_history[-1].note == "duplicate order"

    async def test_a_repeated_seq_writes_one_row_and_keeps_its_note(self, session_factory):
        claim_id = (await take_in(session_factory)).claim_id
        note_id = await add_note(session_factory, claim_id, kind="cancellation", body="patient moved")
        other = await add_note(session_factory, claim_id, kind="cancellation", body="another reason")

        assert await record(session_factory, claim_id, 1, ClaimStatus.CANCELLED, note_id=note_id)
        assert not await record(session_factory, claim_id, 1, ClaimStatus.CANCELLED, note_id=note_id)
        assert not await record(session_factory, claim_id, 1, ClaimStatus.CANCELLED, note_id=other)
        assert not await record(session_factory, claim_id, 1, ClaimStatus.CANCELLED)

        assert await note_ids_in_history(session_factory, claim_id) == [None, note_id]
        assert (await get(session_factory, claim_id)).status_history[1].note == "patient moved"
        assert len(await notes(session_factory, claim_id)) == 2
        async with UnitOfWork(session_factory) as uow:
            assert len(await uow.audit.list_for_claim(claim_id)) == 2

    async def test_the_audit_row_names_the_note_but_never_holds_its_text(self, session_factory):
        claim_id = (await take_in(session_factory)).claim_id
        await record(session_factory, claim_id, 1, ClaimStatus.IN_REVIEW)
        note_id = await add_note(session_factory, claim_id, kind="decision", body=PHI_NOTE)

        await record(session_factory, claim_id, 2, ClaimStatus.DENIED, note_id=note_id)

        async with UnitOfWork(session_factory) as uow:
            audit = await uow.audit.list_for_claim(claim_id)
        assert audit[-1].action == "claim.status_changed"
        assert audit[-1].details == {"status": "denied", "reason": "to denied", "seq": 2, "note_id": note_id}
        async with session_factory() as session:
            every_detail = (await session.scalars(select(AuditLog.details))).all()
        assert not any("Ana" in json.dumps(details) or "DOC-9" in json.dumps(details) for details in every_detail)

    @pytest.mark.parametrize("whose", ["never-stored", "another-claims"])
    async def test_a_note_that_is_not_one_of_the_claims_notes_raises_and_writes_nothing(self, session_factory, whose):
        claim_id = (await take_in(session_factory)).claim_id
        other_claim = (await take_in(session_factory)).claim_id
        note_id = new_claim_id() if whose == "never-stored" else await add_note(session_factory, other_claim)

        async with UnitOfWork(session_factory) as uow:
            with pytest.raises(NoteNotFoundError, match=note_id):
                await uow.claims.record_status(
                    claim_id=claim_id,
                    seq=1,
                    status=ClaimStatus.CANCELLED,
                    reason="r",
                    at=at(1),
                    actor="w",
                    note_id=note_id,
                )

        assert await note_ids_in_history(session_factory, claim_id) == [None]
        assert (await get(session_factory, claim_id)).status is ClaimStatus.RECEIVED

    async def test_a_missing_claim_with_a_note_id_still_raises_claim_not_found(self, session_factory):
        missing = new_claim_id()
        async with UnitOfWork(session_factory) as uow:
            with pytest.raises(ClaimNotFoundError, match=missing):
                await uow.claims.record_status(
                    claim_id=missing, seq=1, status=ClaimStatus.CANCELLED, reason="r", at=at(1), actor="w", note_id="n"
                )


class TestDiscardNote:
    async def test_a_note_no_status_change_refers_to_is_deleted(self, session_factory):
        claim_id = (await take_in(session_factory)).claim_id
        kept = await add_note(session_factory, claim_id, body="kept")
        refused = await add_note(session_factory, claim_id, body="refused")

        assert await discard(session_factory, refused)

        assert [note.note_id for note in await notes(session_factory, claim_id)] == [kept]

    async def test_a_note_a_status_change_refers_to_is_kept(self, session_factory):
        claim_id = (await take_in(session_factory)).claim_id
        note_id = await add_note(session_factory, claim_id, kind="cancellation", body="withdrawn")
        await record(session_factory, claim_id, 1, ClaimStatus.CANCELLED, note_id=note_id)

        assert not await discard(session_factory, note_id)

        assert [note.note_id for note in await notes(session_factory, claim_id)] == [note_id]
        assert (await get(session_factory, claim_id)).status_history[1].note == "withdrawn"

    async def test_an_unknown_note_is_not_discarded(self, session_factory):
        assert not await discard(session_factory, new_claim_id())

    async def test_the_transaction_stays_usable_after_a_refused_discard(self, session_factory):
        claim_id = (await take_in(session_factory)).claim_id
        note_id = await add_note(session_factory, claim_id)
        await record(session_factory, claim_id, 1, ClaimStatus.APPROVED, note_id=note_id)

        async with UnitOfWork(session_factory) as uow:
            assert not await uow.claims.discard_note(note_id)
            another = await uow.claims.add_note(claim_id=claim_id, kind="decision", body="b", author="a", at=T0)
            await uow.commit()

        assert {note.note_id for note in await notes(session_factory, claim_id)} == {note_id, another}

    async def test_a_discard_racing_the_status_change_that_refers_to_the_note_keeps_it(self, session_factory):
        # The status row is written but not committed: the discard cannot see it, waits for the note's row lock,
        # and the foreign key refuses the delete once the status change commits.
        claim_id = (await take_in(session_factory)).claim_id
        note_id = await add_note(session_factory, claim_id, kind="cancellation", body="withdrawn")

        async with UnitOfWork(session_factory) as recording:
            await recording.claims.record_status(
                claim_id=claim_id, seq=1, status=ClaimStatus.CANCELLED, reason="r", at=at(1), actor="w", note_id=note_id
            )
            racing = asyncio.create_task(discard(session_factory, note_id))
            await wait_until_blocked(session_factory)
            await recording.commit()

        assert not await racing
        assert await note_ids_in_history(session_factory, claim_id) == [None, note_id]
        assert [note.note_id for note in await notes(session_factory, claim_id)] == [note_id]

    async def test_a_status_change_racing_the_discard_of_its_note_raises_note_not_found(self, session_factory):
        claim_id = (await take_in(session_factory)).claim_id
        note_id = await add_note(session_factory, claim_id, kind="cancellation", body="withdrawn")

        async with UnitOfWork(session_factory) as discarding:
            assert await discarding.claims.discard_note(note_id)
            racing = asyncio.create_task(record(session_factory, claim_id, 1, ClaimStatus.CANCELLED, note_id=note_id))
            await wait_until_blocked(session_factory)
            await discarding.commit()

        with pytest.raises(NoteNotFoundError):
            await racing
        assert await note_ids_in_history(session_factory, claim_id) == [None]


async def wait_until_blocked(sessions: Any) -> None:
    """Until another session of this database waits for a lock."""
    query = text(
        "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"
    )
    for _ in range(200):
        async with sessions() as session:
            if await session.scalar(query):
                return
        await asyncio.sleep(0.02)
    raise AssertionError("no session started waiting for a lock")


async def test_the_record_status_changes_activity_writes_the_note_id_of_its_status_record(session_factory):
    claim_id = (await take_in(session_factory)).claim_id
    note_id = await add_note(session_factory, claim_id, kind="cancellation", body="withdrawn")
    change = StatusRecord(
        claim_id=claim_id,
        seq=1,
        status=ClaimStatus.CANCELLED,
        reason="cancelled by org:org-1",
        at=at(1),
        actor="org:org-1",
        details=StatusDetails(note_id=note_id),
    )

    result = await ClaimRecordActivities(session_factory).record_status_changes(
        RecordStatusChangesInput(changes=[change])
    )

    assert result.recorded
    assert (await get(session_factory, claim_id)).status_history[1].note == "withdrawn"
