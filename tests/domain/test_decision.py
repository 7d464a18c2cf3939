"""Adjuster decisions: what check_decision refuses (409 conflict vs 422 refusal) and the lines adjudicate writes."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from domain.adjudication import Adjustment, GroupCode, LineAdjudication
from domain.decision import (
    BilledLine,
    Decision,
    DecisionAction,
    DecisionConflictError,
    DecisionRefusedError,
    InformationIncompleteError,
    LineDecision,
    ReassignConflictError,
    Recommendation,
    adjudicate,
    approved_total,
    check_decision,
    check_information_complete,
    check_reassignable,
    needs_second_approval,
)
from domain.documents import DocumentType
from domain.errors import ConflictError, RefusedError
from domain.status import ClaimStatus

A = DecisionAction
LINES = [BilledLine(line_number=1, charge=Decimal("45.00")), BilledLine(line_number=2, charge=Decimal("20.00"))]
BILLED_TOTAL = Decimal("65.00")


def line(number: int, amount: str, reason: str | None = None) -> LineDecision:
    return LineDecision(line_number=number, approved_amount=Decimal(amount), reason_code=reason)


def decision(
    action: DecisionAction, *lines: LineDecision, reason: str | None = None, note: str | None = None
) -> Decision:
    return Decision(action=action, lines=list(lines), reason_code=reason, note=note)


#: One decision of each action that check_decision accepts for alice's claim in review (confirm needs a
#: recommendation: TestTwoStepApproval).
VALID = {
    A.APPROVE: decision(A.APPROVE),
    A.PARTIAL: decision(A.PARTIAL, line(1, "36.00", "45")),
    A.DENY: decision(A.DENY, reason="50"),
    A.REQUEST_INFO: decision(A.REQUEST_INFO, note="send the requisition"),
}


def check(made: Decision, **overrides: Any) -> None:
    """check_decision for a claim in review, assigned to alice, decided by alice, lines 45 + 20."""
    facts: dict[str, Any] = {
        "status": ClaimStatus.IN_REVIEW,
        "assigned_adjuster": "alice",
        "decided_by": "alice",
        "decided_by_supervisor": False,
        "lines": LINES,
    }
    facts.update(overrides)
    check_decision(made, **facts)


class TestErrorClasses:
    def test_a_conflict_is_a_409_type_conflict_and_not_a_refusal(self) -> None:
        assert issubclass(DecisionConflictError, ConflictError)
        assert not issubclass(DecisionConflictError, RefusedError)
        assert DecisionConflictError.code == "decision_conflict"

    def test_a_refusal_is_a_422_type_refusal_and_not_a_conflict(self) -> None:
        assert issubclass(DecisionRefusedError, RefusedError)
        assert not issubclass(DecisionRefusedError, ConflictError)
        assert DecisionRefusedError.code == "decision_refused"

    @pytest.mark.parametrize("action", list(VALID), ids=str)
    def test_the_valid_decision_of_each_action_is_accepted(self, action: DecisionAction) -> None:
        check(VALID[action])


class TestState:
    @pytest.mark.parametrize("status", [s for s in ClaimStatus if s is not ClaimStatus.IN_REVIEW], ids=str)
    @pytest.mark.parametrize("action", list(VALID), ids=str)
    def test_decision_conflicts_when_the_claim_is_not_in_review(
        self, action: DecisionAction, status: ClaimStatus
    ) -> None:
        with pytest.raises(DecisionConflictError, match=f"the claim is {status.value}"):
            check(VALID[action], status=status)

    def test_decision_conflicts_on_state_before_looking_at_its_lines(self) -> None:
        with pytest.raises(DecisionConflictError):
            check(decision(A.APPROVE, line(9, "99.00")), status=ClaimStatus.PENDING)

    def test_a_supervisor_cannot_decide_a_claim_that_is_not_in_review(self) -> None:
        with pytest.raises(DecisionConflictError):
            check(VALID[A.APPROVE], status=ClaimStatus.INFO_REQUESTED, decided_by="carol", decided_by_supervisor=True)


class TestAssignment:
    @pytest.mark.parametrize("action", list(VALID), ids=str)
    def test_decision_conflicts_when_not_assigned_to_the_adjuster(self, action: DecisionAction) -> None:
        with pytest.raises(DecisionConflictError, match="assigned to another adjuster"):
            check(VALID[action], decided_by="bob")

    def test_decision_conflicts_when_the_claim_is_assigned_to_nobody(self) -> None:
        with pytest.raises(DecisionConflictError):
            check(VALID[A.APPROVE], assigned_adjuster=None, decided_by="bob")

    def test_decision_conflicts_on_assignment_before_looking_at_its_lines(self) -> None:
        with pytest.raises(DecisionConflictError):
            check(decision(A.APPROVE, line(9, "99.00")), decided_by="bob")

    @pytest.mark.parametrize("action", list(VALID), ids=str)
    def test_a_supervisor_may_override_and_decide_a_claim_assigned_to_another(self, action: DecisionAction) -> None:
        check(VALID[action], decided_by="carol", decided_by_supervisor=True)

    def test_a_supervisor_may_decide_a_claim_assigned_to_nobody(self) -> None:
        check(VALID[A.APPROVE], assigned_adjuster=None, decided_by="carol", decided_by_supervisor=True)


class TestAuthority:
    """Above the limit an approval is not refused: it becomes a recommendation (needs_second_approval)."""

    def test_approval_exactly_at_the_authority_limit_needs_no_second_approval(self) -> None:
        assert not needs_second_approval(decision(A.APPROVE), LINES, BILLED_TOTAL)

    def test_approval_one_cent_above_the_authority_limit_needs_a_second_approval(self) -> None:
        assert needs_second_approval(decision(A.APPROVE), LINES, BILLED_TOTAL - Decimal("0.01"))

    def test_partial_approval_above_the_authority_limit_needs_a_second_approval(self) -> None:
        assert needs_second_approval(decision(A.PARTIAL, line(1, "36.00", "45")), LINES, Decimal("35.99"))

    def test_approval_counts_the_reduced_line_amounts_against_the_authority_limit(self) -> None:
        assert not needs_second_approval(decision(A.APPROVE, line(1, "40.00", "45")), LINES, Decimal("60.00"))

    def test_approval_with_no_authority_limit_never_needs_a_second_approval(self) -> None:
        big = [BilledLine(line_number=1, charge=Decimal("9999999.99"))]
        assert not needs_second_approval(decision(A.APPROVE), big, None)

    @pytest.mark.parametrize("action", [A.DENY, A.REQUEST_INFO], ids=str)
    def test_deny_and_request_info_ignore_the_authority_limit(self, action: DecisionAction) -> None:
        assert not needs_second_approval(VALID[action], LINES, Decimal("0.00"))
        check(VALID[action])


RECOMMENDED = Recommendation(decision=decision(A.APPROVE), recommended_by="alice", amount=BILLED_TOTAL)


class TestTwoStepApproval:
    def test_a_supervisor_confirms_another_adjusters_recommendation(self) -> None:
        check(decision(A.CONFIRM), decided_by="carol", decided_by_supervisor=True, recommendation=RECOMMENDED)

    @pytest.mark.parametrize("action", [A.APPROVE, A.PARTIAL, A.DENY, A.REQUEST_INFO], ids=str)
    def test_a_supervisor_may_change_deny_or_ask_instead(self, action: DecisionAction) -> None:
        check(VALID[action], decided_by="carol", decided_by_supervisor=True, recommendation=RECOMMENDED)

    def test_four_eyes_the_recommender_cannot_decide_their_own_recommendation_even_as_supervisor(self) -> None:
        with pytest.raises(DecisionConflictError, match="four eyes: alice recommended"):
            check(decision(A.CONFIRM), decided_by_supervisor=True, recommendation=RECOMMENDED)

    def test_a_recommendation_waits_for_a_supervisor_not_another_adjuster(self) -> None:
        with pytest.raises(DecisionConflictError, match="waits for a supervisor"):
            check(decision(A.CONFIRM), decided_by="bob", assigned_adjuster="bob", recommendation=RECOMMENDED)

    def test_confirm_without_a_recommendation_conflicts(self) -> None:
        with pytest.raises(DecisionConflictError, match="nothing to confirm"):
            check(decision(A.CONFIRM), decided_by="carol", decided_by_supervisor=True)

    def test_confirm_with_lines_or_a_reason_is_refused(self) -> None:
        with pytest.raises(DecisionRefusedError, match="send approve or partial"):
            check(
                decision(A.CONFIRM, line(1, "36.00", "45")),
                decided_by="carol",
                decided_by_supervisor=True,
                recommendation=RECOMMENDED,
            )


class TestReassignment:
    @pytest.mark.parametrize("status", [ClaimStatus.IN_REVIEW, ClaimStatus.INFO_REQUESTED], ids=str)
    def test_a_claim_in_review_or_waiting_for_information_may_go_to_another(self, status: ClaimStatus) -> None:
        check_reassignable(status, current="alice", to="bob")
        check_reassignable(status, current="alice", to=None)

    @pytest.mark.parametrize("status", [ClaimStatus.PENDING, ClaimStatus.APPROVED, ClaimStatus.CLOSED], ids=str)
    def test_a_claim_out_of_review_cannot_be_reassigned(self, status: ClaimStatus) -> None:
        with pytest.raises(ReassignConflictError, match="only a claim in review or waiting for information"):
            check_reassignable(status, current="alice", to="bob")

    def test_reassigning_to_the_current_assignee_conflicts(self) -> None:
        with pytest.raises(ReassignConflictError, match="already assigned to alice"):
            check_reassignable(ClaimStatus.IN_REVIEW, current="alice", to="alice")


class TestLines:
    @pytest.mark.parametrize("action", [A.APPROVE, A.PARTIAL], ids=str)
    def test_decision_is_refused_when_it_approves_more_than_billed(self, action: DecisionAction) -> None:
        with pytest.raises(DecisionRefusedError, match=r"lines\[0\]\.approved_amount"):
            check(decision(action, line(1, "45.01")))

    def test_decision_is_refused_for_a_line_number_the_claim_does_not_have(self) -> None:
        with pytest.raises(DecisionRefusedError, match="the claim has no line 3"):
            check(decision(A.PARTIAL, line(1, "36.00", "45"), line(3, "1.00", "45")))

    def test_decision_is_refused_when_it_decides_a_line_twice(self) -> None:
        with pytest.raises(DecisionRefusedError, match="decided twice"):
            check(decision(A.PARTIAL, line(1, "36.00", "45"), line(1, "30.00", "45")))

    @pytest.mark.parametrize("action", [A.APPROVE, A.PARTIAL], ids=str)
    def test_decision_is_refused_when_a_line_below_billed_has_no_reason_code(self, action: DecisionAction) -> None:
        with pytest.raises(DecisionRefusedError, match=r"lines\[0\]\.reason_code"):
            check(decision(action, line(1, "36.00")))

    def test_a_line_approved_at_billed_needs_no_reason_code(self) -> None:
        check(decision(A.APPROVE, line(1, "45.00"), line(2, "20.00")))

    def test_line_checks_apply_to_a_recommendation_too(self) -> None:
        with pytest.raises(DecisionRefusedError):
            check(decision(A.APPROVE, line(1, "45.01")))


class TestActions:
    def test_deny_without_a_reason_code_is_refused(self) -> None:
        with pytest.raises(DecisionRefusedError, match="a denial needs a reason code"):
            check(decision(A.DENY, note="no"))

    def test_deny_with_a_reason_code_on_a_line_is_accepted(self) -> None:
        check(decision(A.DENY, line(1, "0.00", "50")))

    def test_partial_without_lines_is_refused(self) -> None:
        with pytest.raises(DecisionRefusedError, match="a partial approval names the lines"):
            check(decision(A.PARTIAL, reason="45"))

    def test_partial_that_approves_every_line_in_full_is_refused(self) -> None:
        with pytest.raises(DecisionRefusedError, match="approve the claim instead"):
            check(decision(A.PARTIAL, line(1, "45.00"), line(2, "20.00")))

    def test_partial_naming_one_line_in_full_leaves_the_others_at_zero_and_is_accepted(self) -> None:
        made = decision(A.PARTIAL, line(1, "45.00"))
        check(made)
        assert approved_total(made, LINES) == Decimal("45.00")

    @pytest.mark.parametrize("note", [None, ""], ids=["none", "empty"])
    def test_request_info_without_a_note_is_refused(self, note: str | None) -> None:
        with pytest.raises(DecisionRefusedError, match="say what information is requested"):
            check(decision(A.REQUEST_INFO, note=note))

    @pytest.mark.parametrize("action", [A.APPROVE, A.PARTIAL], ids=str)
    def test_approve_or_partial_with_only_zero_amounts_is_refused(self, action: DecisionAction) -> None:
        # Every line named at zero, each with a reason code, so no other rule refuses it.
        with pytest.raises(DecisionRefusedError):
            check(decision(action, line(1, "0.00", "45"), line(2, "0.00", "45")))


class TestDecisionShape:
    @pytest.mark.parametrize(
        "body",
        [
            {"action": "approve", "lines": [{"line_number": 0, "approved_amount": "1.00"}]},
            {"action": "approve", "lines": [{"line_number": 1, "approved_amount": "-1.00"}]},
            {"action": "approve", "lines": [{"line_number": 1, "approved_amount": "1.001"}]},
            {"action": "deny", "reason_code": "   "},
            {"action": "deny", "reason_code": "12345678901"},
            {"action": "approve", "amount": "1.00"},
            {"action": "escalate"},
        ],
        ids=["line-zero", "negative", "fraction-of-cent", "blank-reason", "long-reason", "extra-field", "bad-action"],
    )
    def test_a_decision_body_that_breaks_the_shape_does_not_parse(self, body: dict[str, Any]) -> None:
        with pytest.raises(ValidationError):
            Decision.model_validate(body)

    def test_reason_codes_are_stripped(self) -> None:
        parsed = Decision.model_validate({"action": "deny", "reason_code": " 50 "})
        assert parsed.reason_code == "50"


class TestAdjudicate:
    def test_approve_without_lines_pays_every_line_at_billed(self) -> None:
        assert adjudicate(decision(A.APPROVE), LINES) == [
            LineAdjudication(line_number=1, billed=Decimal("45.00"), allowed=Decimal("45.00"), paid=Decimal("45.00")),
            LineAdjudication(line_number=2, billed=Decimal("20.00"), allowed=Decimal("20.00"), paid=Decimal("20.00")),
        ]

    def test_approve_with_a_reduced_line_writes_it_off_with_its_reason_and_pays_the_rest_in_full(self) -> None:
        first, second = adjudicate(decision(A.APPROVE, line(1, "36.00", "253")), LINES)
        assert first.paid == first.allowed == Decimal("36.00")
        assert first.adjustments == [
            Adjustment(group_code=GroupCode.CONTRACTUAL, reason_code="253", amount=Decimal("9.00"))
        ]
        assert second.paid == Decimal("20.00")
        assert second.adjustments == []

    def test_partial_pays_unnamed_lines_nothing_under_the_decision_reason_code(self) -> None:
        _, second = adjudicate(decision(A.PARTIAL, line(1, "36.00", "45"), reason="96"), LINES)
        assert second.paid == Decimal("0.00")
        assert second.adjustments == [
            Adjustment(group_code=GroupCode.CONTRACTUAL, reason_code="96", amount=Decimal("20.00"))
        ]

    def test_partial_writes_off_unnamed_lines_as_co_45_when_no_reason_is_given(self) -> None:
        _, second = adjudicate(decision(A.PARTIAL, line(1, "36.00", "253")), LINES)
        assert second.adjustments == [
            Adjustment(group_code=GroupCode.CONTRACTUAL, reason_code="45", amount=Decimal("20.00"))
        ]

    def test_a_line_reason_code_wins_over_the_decision_reason_code(self) -> None:
        first, _ = adjudicate(decision(A.PARTIAL, line(1, "36.00", "253"), reason="96"), LINES)
        assert [adjustment.reason_code for adjustment in first.adjustments] == ["253"]

    def test_adjudication_keeps_the_billed_lines_in_order(self) -> None:
        lines = [BilledLine(line_number=n, charge=Decimal("1.00")) for n in (3, 1, 2)]
        assert [result.line_number for result in adjudicate(decision(A.APPROVE), lines)] == [3, 1, 2]


@st.composite
def claims_and_decisions(draw: st.DrawFn) -> tuple[list[BilledLine], Decision, Decimal | None]:
    charges = draw(st.lists(st.integers(1, 100_000), min_size=1, max_size=4))
    billed = [BilledLine(line_number=i + 1, charge=Decimal(c) / 100) for i, c in enumerate(charges)]
    named = draw(st.lists(st.integers(1, len(billed) + 1), max_size=len(billed) + 1))
    lines = [
        LineDecision(
            line_number=n,
            approved_amount=Decimal(draw(st.integers(0, charges[n - 1] + 1 if n <= len(charges) else 500))) / 100,
            reason_code=draw(st.sampled_from([None, "45", "253"])),
        )
        for n in named
    ]
    made = Decision(
        action=draw(st.sampled_from(A)),
        lines=lines,
        reason_code=draw(st.sampled_from([None, "50"])),
        note=draw(st.sampled_from([None, "a note"])),
    )
    limit = draw(st.one_of(st.none(), st.integers(0, 400_000).map(lambda c: Decimal(c) / 100)))
    return billed, made, limit


class TestProperties:
    @given(case=claims_and_decisions())
    def test_an_approval_that_needs_no_second_approval_never_pays_more_than_billed_or_the_authority_limit(
        self, case: tuple[list[BilledLine], Decision, Decimal | None]
    ) -> None:
        billed, made, limit = case
        try:
            check(made, lines=billed)
        except (DecisionConflictError, DecisionRefusedError):
            return
        if made.action not in (A.APPROVE, A.PARTIAL) or needs_second_approval(made, billed, limit):
            return
        result = adjudicate(made, billed)
        assert [r.line_number for r in result] == [b.line_number for b in billed]
        paid = sum((r.paid for r in result), Decimal("0.00"))
        assert paid == approved_total(made, billed)
        assert limit is None or paid <= limit
        for adjudicated, billed_line in zip(result, billed, strict=True):
            assert Decimal("0.00") <= adjudicated.paid <= billed_line.charge
            assert adjudicated.paid + sum(a.amount for a in adjudicated.adjustments) == billed_line.charge
        if made.action is A.PARTIAL:
            assert paid < sum(b.charge for b in billed)

    @given(case=claims_and_decisions())
    def test_check_decision_only_ever_raises_a_decision_conflict_or_refusal(
        self, case: tuple[list[BilledLine], Decision, Decimal | None]
    ) -> None:
        billed, made, _ = case
        try:
            check(made, lines=billed)
        except (DecisionConflictError, DecisionRefusedError):
            pass


class TestRequestedDocuments:
    def test_a_request_for_information_may_name_documents_instead_of_a_note(self) -> None:
        check(Decision(action=A.REQUEST_INFO, requested_documents=[DocumentType.MEDICAL_RECORD]))

    @pytest.mark.parametrize("action", [A.APPROVE, A.DENY], ids=str)
    def test_only_a_request_for_information_names_documents(self, action: DecisionAction) -> None:
        made = VALID[action].model_copy(update={"requested_documents": [DocumentType.LAB_REPORT]})
        with pytest.raises(DecisionRefusedError, match="requested_documents: only a request for information"):
            check(made)

    def test_an_answer_with_one_of_each_type_requested_is_complete(self) -> None:
        requested = [DocumentType.MEDICAL_RECORD, DocumentType.ITEMIZED_BILL]
        check_information_complete(requested, [DocumentType.ITEMIZED_BILL, DocumentType.MEDICAL_RECORD])
        check_information_complete([], [])

    def test_an_answer_missing_a_type_is_refused_naming_it(self) -> None:
        with pytest.raises(InformationIncompleteError, match="asked for itemized_bill; upload it"):
            check_information_complete(
                [DocumentType.MEDICAL_RECORD, DocumentType.ITEMIZED_BILL], [DocumentType.MEDICAL_RECORD]
            )
