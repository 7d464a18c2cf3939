"""The status machine: the table of allowed moves, written out here as the README documents it, against the code's."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.errors import ConflictError, DomainError
from domain.status import (
    CANCELLABLE,
    FINAL,
    TRANSITIONS,
    ClaimStatus,
    InformationNotRequestedError,
    InvalidTransitionError,
    NotCancellableError,
    can_move,
    check_cancellable,
    check_information_expected,
    is_final,
    move,
)

S = ClaimStatus

#: README "### Statuses", move by move (written independently of domain/status.py).
README_MOVES: frozenset[tuple[ClaimStatus, ClaimStatus]] = frozenset(
    {
        (S.RECEIVED, S.VALIDATING),
        (S.VALIDATING, S.INVALID),
        (S.VALIDATING, S.SUBMITTED),
        (S.SUBMITTED, S.PENDING),
        (S.PENDING, S.APPROVED),
        (S.PENDING, S.PARTIALLY_APPROVED),
        (S.PENDING, S.DENIED),
        (S.PENDING, S.IN_REVIEW),
        (S.IN_REVIEW, S.APPROVED),
        (S.IN_REVIEW, S.PARTIALLY_APPROVED),
        (S.IN_REVIEW, S.DENIED),
        (S.IN_REVIEW, S.INFO_REQUESTED),
        (S.INFO_REQUESTED, S.IN_REVIEW),
        (S.INFO_REQUESTED, S.DENIED),
        (S.APPROVED, S.PAID),
        (S.PARTIALLY_APPROVED, S.PAID),
        (S.PAID, S.CLOSED),
        (S.SUBMITTED, S.IN_REVIEW),  # rejected by the processor at submission
        (S.VALIDATING, S.READY),  # valid, but no enabled integration for the payer
        (S.READY, S.SUBMITTED),  # an operator submits it once one is enabled
        # "cancelled: from received, validating and ready (until the submission starts), in_review, info_requested"
        *((status, S.CANCELLED) for status in (S.RECEIVED, S.VALIDATING, S.READY, S.IN_REVIEW, S.INFO_REQUESTED)),
    }
)

EXPECTED_MOVES = README_MOVES
ALL_PAIRS = list(itertools.product(ClaimStatus, repeat=2))
ALLOWED_PAIRS = sorted(EXPECTED_MOVES)
REFUSED_PAIRS = [pair for pair in ALL_PAIRS if pair not in EXPECTED_MOVES]
STATUSES = st.sampled_from(ClaimStatus)


def _code_moves() -> set[tuple[ClaimStatus, ClaimStatus]]:
    return {(current, target) for current, targets in TRANSITIONS.items() for target in targets}


def _pair_id(pair: tuple[ClaimStatus, ClaimStatus]) -> str:
    return f"{pair[0].value}->{pair[1].value}"


class TestTable:
    def test_table_has_a_row_for_every_status(self) -> None:
        assert set(TRANSITIONS) == set(ClaimStatus)

    def test_table_is_exactly_the_readme_diagram(self) -> None:
        assert _code_moves() == README_MOVES

    def test_matrix_covers_every_pair_of_statuses(self) -> None:
        assert len(ALLOWED_PAIRS) + len(REFUSED_PAIRS) == len(ClaimStatus) ** 2

    def test_no_status_moves_to_itself(self) -> None:
        assert not any(can_move(status, status) for status in ClaimStatus)


class TestMove:
    @pytest.mark.parametrize("pair", ALLOWED_PAIRS, ids=_pair_id)
    def test_move_returns_the_target_when_the_table_allows_it(self, pair: tuple[ClaimStatus, ClaimStatus]) -> None:
        current, target = pair
        assert can_move(current, target)
        assert move(current, target) is target

    @pytest.mark.parametrize("pair", REFUSED_PAIRS, ids=_pair_id)
    def test_move_raises_invalid_transition_when_the_table_does_not_allow_it(
        self, pair: tuple[ClaimStatus, ClaimStatus]
    ) -> None:
        current, target = pair
        assert not can_move(current, target)
        with pytest.raises(InvalidTransitionError) as raised:
            move(current, target)
        assert raised.value.current is current
        assert raised.value.target is target

    def test_refused_move_is_a_domain_error_with_a_stable_code_naming_both_statuses(self) -> None:
        with pytest.raises(DomainError) as raised:
            move(S.CLOSED, S.RECEIVED)
        assert raised.value.code == "invalid_transition"
        assert raised.value.message == "a claim that is closed cannot become received"

    @given(current=STATUSES, target=STATUSES)
    def test_move_never_returns_a_status_outside_the_table(self, current: ClaimStatus, target: ClaimStatus) -> None:
        try:
            result = move(current, target)
        except InvalidTransitionError:
            assert (current, target) not in EXPECTED_MOVES
        else:
            assert result is target
            assert result in TRANSITIONS[current]


class TestFinal:
    def test_final_statuses_are_invalid_denied_closed_and_cancelled(self) -> None:
        assert {status for status in ClaimStatus if is_final(status)} == {S.INVALID, S.DENIED, S.CLOSED, S.CANCELLED}

    @pytest.mark.parametrize("status", list(ClaimStatus), ids=str)
    def test_a_status_is_final_exactly_when_it_has_no_move_out(self, status: ClaimStatus) -> None:
        assert is_final(status) == (not TRANSITIONS[status])
        assert (status in FINAL) == is_final(status)

    def test_cancellable_statuses_are_the_ones_that_may_move_to_cancelled(self) -> None:
        assert {current for current, target in EXPECTED_MOVES if target is S.CANCELLED} == set(CANCELLABLE)

    @pytest.mark.parametrize("status", [S.APPROVED, S.PARTIALLY_APPROVED, S.PAID], ids=str)
    def test_an_approved_claim_cannot_be_cancelled(self, status: ClaimStatus) -> None:
        with pytest.raises(InvalidTransitionError):
            move(status, S.CANCELLED)


class TestCancellation:
    @pytest.mark.parametrize("started", [False, True], ids=["before-submission", "submission-started"])
    @pytest.mark.parametrize("status", [S.RECEIVED, S.IN_REVIEW, S.INFO_REQUESTED], ids=str)
    def test_a_claim_before_the_processor_or_waiting_for_an_adjuster_may_be_cancelled(
        self, status: ClaimStatus, started: bool
    ) -> None:
        check_cancellable(status, submission_started=started)

    def test_a_validating_claim_may_be_cancelled_until_its_submission_starts(self) -> None:
        check_cancellable(S.VALIDATING, submission_started=False)
        with pytest.raises(NotCancellableError, match="send a void claim"):
            check_cancellable(S.VALIDATING, submission_started=True)

    @pytest.mark.parametrize("status", [S.SUBMITTED, S.PENDING, S.APPROVED, S.PARTIALLY_APPROVED, S.PAID], ids=str)
    def test_a_claim_the_processor_holds_or_that_is_approved_is_refused_with_a_void_hint(
        self, status: ClaimStatus
    ) -> None:
        with pytest.raises(NotCancellableError, match="frequency code 8"):
            check_cancellable(status, submission_started=True)

    @pytest.mark.parametrize("status", sorted(FINAL), ids=str)
    def test_a_final_claim_is_refused_as_final(self, status: ClaimStatus) -> None:
        with pytest.raises(NotCancellableError, match="which is final"):
            check_cancellable(status, submission_started=False)

    def test_not_cancellable_is_a_409_type_conflict_with_a_stable_code(self) -> None:
        assert issubclass(NotCancellableError, ConflictError)
        assert NotCancellableError.code == "not_cancellable"

    @given(status=STATUSES)
    def test_check_cancellable_before_submission_agrees_with_the_table(self, status: ClaimStatus) -> None:
        try:
            check_cancellable(status, submission_started=False)
        except NotCancellableError:
            assert not can_move(status, S.CANCELLED)
        else:
            assert can_move(status, S.CANCELLED)


class TestInformation:
    def test_information_is_expected_only_while_info_requested(self) -> None:
        check_information_expected(S.INFO_REQUESTED)

    @pytest.mark.parametrize("status", [s for s in ClaimStatus if s is not S.INFO_REQUESTED], ids=str)
    def test_information_conflicts_in_any_other_status(self, status: ClaimStatus) -> None:
        with pytest.raises(InformationNotRequestedError, match=f"the claim is {status.value}"):
            check_information_expected(status)

    def test_information_not_requested_is_a_409_type_conflict_with_a_stable_code(self) -> None:
        assert issubclass(InformationNotRequestedError, ConflictError)
        assert InformationNotRequestedError.code == "information_not_requested"


class TestPaths:
    @given(choices=st.lists(st.integers(min_value=0), max_size=40))
    def test_a_walk_of_allowed_moves_from_received_always_can_still_reach_a_final_status(
        self, choices: list[int]
    ) -> None:
        status = S.RECEIVED
        for choice in choices:
            targets = sorted(TRANSITIONS[status])
            if not targets:
                break
            status = move(status, targets[choice % len(targets)])
        assert is_final(status) or _reaches_final(status)

    def test_every_status_is_reachable_from_received(self) -> None:
        seen = {S.RECEIVED}
        frontier = [S.RECEIVED]
        while frontier:
            for target in TRANSITIONS[frontier.pop()]:
                if target not in seen:
                    seen.add(target)
                    frontier.append(target)
        assert seen == set(ClaimStatus)

    def test_the_happy_path_moves_received_to_closed(self) -> None:
        status = S.RECEIVED
        for target in (S.VALIDATING, S.SUBMITTED, S.PENDING, S.APPROVED, S.PAID, S.CLOSED):
            status = move(status, target)
        assert status is S.CLOSED


def _reaches_final(start: ClaimStatus) -> bool:
    seen = {start}
    frontier = [start]
    while frontier:
        status = frontier.pop()
        if is_final(status):
            return True
        for target in TRANSITIONS[status] - seen:
            seen.add(target)
            frontier.append(target)
    return False
