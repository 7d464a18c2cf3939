"""The status machine: the table of allowed moves, written out here as the README documents it, against the code's."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.errors import ConflictError, DomainError
from domain.status import (
    CANCELLABLE,
    CORRECTABLE,
    FINAL,
    TRANSITIONS,
    ClaimStatus,
    InformationNotRequestedError,
    InvalidTransitionError,
    NotCancellableError,
    NotCorrectableError,
    can_move,
    check_cancellable,
    check_correctable,
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
        # the eligibility check before submission finds the coverage inactive
        (S.VALIDATING, S.IN_REVIEW),
        (S.READY, S.IN_REVIEW),
        (S.IN_REVIEW, S.READY),  # approved after the risk screen held it before submission: sent from ready
        (S.SUBMITTED, S.CLOSED),  # a void claim the processor accepted
        # the payer accepted a replacement (frequency 7) or a void (8) of an adjudicated claim
        *((status, target) for status in (S.CLOSED, S.DENIED) for target in (S.REPLACED, S.VOIDED)),
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
    def test_final_statuses_are_invalid_denied_closed_cancelled_replaced_and_voided(self) -> None:
        assert {status for status in ClaimStatus if is_final(status)} == {
            S.INVALID,
            S.DENIED,
            S.CLOSED,
            S.CANCELLED,
            S.REPLACED,
            S.VOIDED,
        }

    @pytest.mark.parametrize("status", list(ClaimStatus), ids=str)
    def test_a_final_status_moves_out_only_to_replaced_or_voided(self, status: ClaimStatus) -> None:
        """The claim's own workflow never moves a final claim; only a replacement or void accepted later does."""
        assert (status in FINAL) == is_final(status)
        if is_final(status):
            assert TRANSITIONS[status] <= {S.REPLACED, S.VOIDED}
            assert bool(TRANSITIONS[status]) == (status in CORRECTABLE)
        else:
            assert TRANSITIONS[status]

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


class TestCorrection:
    @pytest.mark.parametrize("status", sorted(CORRECTABLE), ids=str)
    def test_a_closed_or_denied_claim_may_be_replaced_or_voided(self, status: ClaimStatus) -> None:
        check_correctable(status)
        assert can_move(status, S.REPLACED) and can_move(status, S.VOIDED)

    @pytest.mark.parametrize("status", [s for s in ClaimStatus if not is_final(s)], ids=str)
    def test_a_claim_whose_workflow_still_runs_is_refused_saying_so(self, status: ClaimStatus) -> None:
        with pytest.raises(NotCorrectableError, match="its workflow still runs"):
            check_correctable(status)

    def test_a_replaced_claim_is_refused_pointing_at_its_replacement(self) -> None:
        with pytest.raises(NotCorrectableError, match="correct or void its replacement instead"):
            check_correctable(S.REPLACED)

    @pytest.mark.parametrize("status", [S.INVALID, S.CANCELLED, S.VOIDED], ids=str)
    def test_a_claim_the_payer_never_adjudicated_or_voided_is_refused(self, status: ClaimStatus) -> None:
        with pytest.raises(NotCorrectableError, match="only a closed or denied claim"):
            check_correctable(status)
        assert not can_move(status, S.REPLACED)

    def test_not_correctable_is_a_409_type_conflict_with_a_stable_code(self) -> None:
        assert issubclass(NotCorrectableError, ConflictError)
        assert NotCorrectableError.code == "not_correctable"


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
