"""The status-polling schedule: back-off to a cap, never past the deadline, and at once when a webhook says so."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from workflows.claim_contract import ClaimPolicy, ClaimState


class PollSchedule:
    """When to ask the processor next about a claim.

    The wait doubles from `poll_initial` after each poll, up to `poll_max`, and never runs past the
    claim's poll deadline. A processor webhook (`wake`) cuts the current wait short. The count of
    polls and the deadline live in the claim's state, so they carry over a continue-as-new.
    """

    def __init__(self, policy: ClaimPolicy, state: ClaimState) -> None:
        self._policy = policy
        self._state = state
        self._polls_this_run = 0

    def wake(self) -> None:
        """The processor says the claim moved: poll now instead of when the timer fires (also in the next run)."""
        self._state.poll_now = True

    def deadline_passed(self) -> bool:
        deadline = self._state.poll_deadline_at
        return deadline is not None and workflow.now() >= deadline

    def next_wait(self) -> timedelta:
        state = self._state
        assert state.poll_deadline_at is not None
        backed_off: timedelta = self._policy.poll_initial * 2 ** min(state.polls, 30)
        return min(backed_off, self._policy.poll_max, state.poll_deadline_at - workflow.now())

    async def wait(self, still_waiting: Callable[[], bool]) -> None:
        """Until the next poll is due, a webhook wakes it, or `still_waiting()` turns false (an update moved the claim)."""
        wait = self.next_wait()
        self._state.next_poll_at = workflow.now() + wait
        if not self._state.poll_now:
            try:
                await workflow.wait_condition(
                    lambda: self._state.poll_now or not still_waiting(),
                    timeout=wait,
                    timeout_summary="wait before the next status poll",
                )
            except TimeoutError:
                pass
        self._state.poll_now = False

    def polled(self) -> None:
        self._state.polls += 1
        self._state.next_poll_at = None
        self._polls_this_run += 1

    def history_is_long(self) -> bool:
        """Time to continue as new: this run polled its share, or the server suggests it."""
        return self._polls_this_run >= self._policy.polls_per_run or workflow.info().is_continue_as_new_suggested()
