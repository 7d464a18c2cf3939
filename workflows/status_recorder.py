"""A claim's status changes: the move the status machine allows, its history, search attributes and database rows."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from activities.contracts import RECORD_STATUS_CHANGES, RecordStatusChangesInput, StatusDetails, StatusRecord
    from domain.status import ClaimStatus, move
    from workflows import steps
    from workflows.claim_contract import ASSIGNED_ADJUSTER, CLAIM_STATUS, ClaimState, StatusChange

#: The actor named on the status changes claimflow makes on its own (no person decided them).
SYSTEM_ACTOR = "claimflow"


class StatusRecorder:
    """Moves the claim and records each change: its history, the search attributes, the database rows.

    Whatever changes the status — the lifecycle or an update handler — holds `lock`: `advance`
    takes it, `move` expects the caller to hold it.

    A change is written at once, or — `defer=True` — by the step that follows it at once, in that
    step's own transaction (`take_unwritten`); `write_unwritten` writes what is left before the
    claim waits for anything, so no change is ever held across a wait.
    """

    def __init__(self, state: ClaimState, lock: asyncio.Lock, on_change: Callable[[], None]) -> None:
        self._state = state
        self._lock = lock
        self._on_change = on_change
        self._unwritten: list[StatusRecord] = []

    async def advance(
        self,
        expected: ClaimStatus,
        target: ClaimStatus,
        reason: str,
        *,
        details: StatusDetails | None = None,
        defer: bool = False,
    ) -> bool:
        """Move expected -> target unless an update moved the claim meanwhile (then do nothing, return False)."""
        async with self._lock:
            if self._state.status is not expected:
                return False
            await self.move(target, reason, details=details, defer=defer)
            return True

    async def move(
        self,
        target: ClaimStatus,
        reason: str,
        *,
        actor: str = SYSTEM_ACTOR,
        details: StatusDetails | None = None,
        defer: bool = False,
    ) -> None:
        """Change status (the caller holds the lock) and record it; the status machine refuses a move it does not allow."""
        self._state.status = move(self._state.status, target)
        self._state.waiting_for = ""
        await self.record(target, reason, actor=actor, details=details, defer=defer)

    async def record(
        self,
        status: ClaimStatus,
        reason: str,
        *,
        actor: str = SYSTEM_ACTOR,
        details: StatusDetails | None = None,
        defer: bool = False,
    ) -> None:
        state = self._state
        change = StatusChange(
            seq=len(state.status_history), status=status, at=workflow.now(), reason=reason, actor=actor
        )
        state.status_history.append(change)
        if not defer:  # a deferred change is superseded before anything could search for it
            workflow.upsert_search_attributes(
                [
                    CLAIM_STATUS.value_set(status.value),
                    ASSIGNED_ADJUSTER.value_set(state.assigned_adjuster)
                    if state.assigned_adjuster
                    else ASSIGNED_ADJUSTER.value_unset(),
                ]
            )
        self._on_change()
        self._unwritten.append(
            StatusRecord(
                claim_id=state.claim_id,
                seq=change.seq,
                status=status,
                reason=reason,
                at=change.at,
                actor=actor,
                details=details or StatusDetails(),
            )
        )
        if not defer:
            await self.write_unwritten()

    def take_unwritten(self) -> list[StatusRecord]:
        """The deferred changes, for a step that writes them in its own transaction."""
        taken, self._unwritten = self._unwritten, []
        return taken

    async def write_unwritten(self) -> None:
        """Write the deferred changes (with the latest), in order, in one transaction."""
        changes = self.take_unwritten()
        if changes:
            await steps.run_local(
                RECORD_STATUS_CHANGES,
                RecordStatusChangesInput(changes=changes),
                kind=steps.DATABASE,
                summary="record status: " + " → ".join(change.status.value for change in changes),
            )
