"""The ledger's posting rules on tables of answers: paid, partial, denied, reversed, corrected, twice, out of order."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from pydantic import ValidationError

from domain.adjudication import Adjustment, GroupCode, LineAdjudication
from domain.decision import BilledLine, Decision, DecisionAction, LineDecision, adjudicate
from domain.ledger import (
    LedgerEntry,
    LedgerKind,
    LedgerSource,
    PaymentAnswer,
    line_totals,
    post,
    standing,
    totals,
)

AT = datetime(2026, 12, 5, 12, 0, tzinfo=UTC)
D = Decimal


def adj(group: str, reason: str, amount: str, quantity: str | None = None) -> Adjustment:
    return Adjustment(
        group_code=GroupCode(group),
        reason_code=reason,
        amount=D(amount),
        quantity=None if quantity is None else D(quantity),
    )


def line(n: int, billed: str, paid: str, *adjustments: Adjustment, allowed: str | None = None) -> LineAdjudication:
    return LineAdjudication(
        line_number=n, billed=D(billed), allowed=D(allowed or paid), paid=D(paid), adjustments=list(adjustments)
    )


def answer(remittance_id: str, *lines: LineAdjudication, **fields: object) -> PaymentAnswer:
    values: dict[str, object] = {
        "remittance_id": remittance_id,
        "source": LedgerSource.REMITTANCE,
        "at": AT,
        "payer_claim_id": "PCN1",
        "lines": list(lines),
    }
    return PaymentAnswer.model_validate(values | fields)


def post_all(*answers: PaymentAnswer) -> list[LedgerEntry]:
    ledger: list[LedgerEntry] = []
    for each in answers:
        ledger += post(ledger, each)
    return ledger


def money(entries: list[LedgerEntry]) -> tuple[Decimal, Decimal, Decimal, Decimal]:
    t = totals(entries)
    return t.billed, t.allowed, t.paid, t.patient_responsibility


PAID = answer("835:T1:PCN1:1", line(1, "45.00", "45.00"))
PARTIAL = answer(
    "835:T1:PCN1:1",
    line(1, "100.00", "70.00", adj("CO", "45", "10.00"), adj("PR", "2", "20.00"), allowed="90.00"),
    line(2, "60.00", "0.00", adj("CO", "50", "60.00")),
)
DENIED = answer(
    "835:T1:PCN1:4", claim_adjustments=[adj("CO", "50", "60.00")], claim_remark_codes=["N130"], claim_billed=D("60.00")
)
ORIGINAL = answer("835:T0:PCN1:1", line(1, "80.00", "64.00", adj("CO", "45", "16.00")))
REVERSAL = answer("835:T2:PCN1:22", line(1, "80.00", "64.00", adj("CO", "45", "16.00")), reversal=True)
CORRECTED = answer("835:T2:PCN1:1", line(1, "80.00", "72.00", adj("CO", "45", "8.00")))


@pytest.mark.parametrize(
    ("answers", "expected", "kinds"),
    [
        pytest.param([PAID], ("45.00", "45.00", "45.00", "0.00"), ["adjudication"], id="paid"),
        pytest.param([PARTIAL], ("160.00", "90.00", "70.00", "20.00"), ["adjudication", "adjudication"], id="partial"),
        pytest.param([DENIED], ("60.00", "0.00", "0.00", "0.00"), ["adjudication"], id="denied-at-claim-level"),
        pytest.param(
            [ORIGINAL, REVERSAL], ("0.00", "0.00", "0.00", "0.00"), ["adjudication", "reversal"], id="reversed"
        ),
        pytest.param(
            [ORIGINAL, REVERSAL, CORRECTED],
            ("80.00", "72.00", "72.00", "0.00"),
            ["adjudication", "reversal", "correction"],
            id="corrected",
        ),
        pytest.param([PAID, PAID], ("45.00", "45.00", "45.00", "0.00"), ["adjudication"], id="same-answer-twice"),
        pytest.param(
            [REVERSAL, ORIGINAL], ("0.00", "0.00", "0.00", "0.00"), ["reversal", "adjudication"], id="reversal-first"
        ),
    ],
)
def test_answers_post_entries_that_add_up_to_the_claims_totals(
    answers: list[PaymentAnswer], expected: tuple[str, ...], kinds: list[str]
) -> None:
    ledger = post_all(*answers)
    assert money(ledger) == tuple(D(x) for x in expected)
    assert [e.kind.value for e in ledger] == kinds
    assert len({e.posting_key for e in ledger}) == len(ledger)


def test_a_reversal_posts_the_negated_amounts_and_names_the_answer_it_reverses() -> None:
    ledger = post_all(ORIGINAL, REVERSAL)
    (reversal,) = [e for e in ledger if e.kind is LedgerKind.REVERSAL]
    assert (reversal.billed, reversal.allowed, reversal.paid) == (D("-80.00"), D("-64.00"), D("-64.00"))
    assert reversal.adjustments == [adj("CO", "45", "-16.00")]
    assert reversal.reverses == ORIGINAL.remittance_id
    assert standing(ledger) == []


def test_a_reversal_before_its_original_waits_unmatched_and_cancels_it_when_it_arrives() -> None:
    ledger = post_all(REVERSAL)
    assert ledger[0].reverses is None and money(ledger)[2] == D("-64.00")
    ledger += post(ledger, ORIGINAL)
    assert standing(ledger) == []
    assert totals(ledger).adjustments == []


def test_every_order_of_original_reversal_and_correction_gives_the_same_totals() -> None:
    results = {
        (money(post_all(*order)), str(totals(post_all(*order)).adjustments))
        for order in itertools.permutations([ORIGINAL, REVERSAL, CORRECTED])
    }
    assert len(results) == 1
    ((amounts, _),) = results
    assert amounts == (D("80.00"), D("72.00"), D("72.00"), D("0.00"))


def test_an_answer_that_replaces_what_stands_reverses_it_first_then_corrects() -> None:
    processor = answer(
        "status:5",
        line(1, "45.00", "36.00", adj("CO", "45", "9.00")),
        source=LedgerSource.PROCESSOR,
        replaces_standing=True,
    )
    adjuster = answer("status:6", line(1, "45.00", "45.00"), source=LedgerSource.ADJUSTER, replaces_standing=True)
    ledger = post_all(processor, adjuster, adjuster)
    assert [(e.kind, e.source, e.paid) for e in ledger] == [
        (LedgerKind.ADJUDICATION, LedgerSource.PROCESSOR, D("36.00")),
        (LedgerKind.REVERSAL, LedgerSource.ADJUSTER, D("-36.00")),
        (LedgerKind.CORRECTION, LedgerSource.ADJUSTER, D("45.00")),
    ]
    assert ledger[1].reverses == "status:5"
    assert standing(ledger) == ["status:6"]
    assert money(ledger) == (D("45.00"), D("45.00"), D("45.00"), D("0.00"))
    assert totals(ledger).adjustments == []


def test_line_totals_keep_lines_apart_and_claim_level_entries_out() -> None:
    ledger = post_all(PARTIAL)
    one, two = line_totals(ledger)
    assert (one.line_number, one.paid, one.patient_responsibility, one.allowed) == (
        1,
        D("70.00"),
        D("20.00"),
        D("90.00"),
    )
    assert one.adjustments == [adj("CO", "45", "10.00"), adj("PR", "2", "20.00")]
    assert (two.line_number, two.paid, two.adjustments) == (2, D("0.00"), [adj("CO", "50", "60.00")])
    denied = post_all(DENIED)
    assert line_totals(denied) == []
    assert denied[0].line_number is None and denied[0].remark_codes == ["N130"]


def test_claim_level_adjustments_below_the_lines_post_a_claim_level_entry() -> None:
    # CLP: billed 100, paid 85, patient 10; the line says paid 95 and the claim adds PR-1 10 (deductible)
    stated = answer(
        "835:T3:PCN1:1",
        line(1, "100.00", "95.00", adj("CO", "45", "5.00")),
        claim_adjustments=[adj("PR", "1", "10.00")],
        claim_billed=D("100.00"),
        claim_paid=D("85.00"),
        claim_patient_responsibility=D("10.00"),
    )
    ledger = post_all(stated)
    claim_level = ledger[-1]
    assert (claim_level.line_number, claim_level.billed, claim_level.paid, claim_level.patient_responsibility) == (
        None,
        D("0.00"),
        D("-10.00"),
        D("10.00"),
    )
    assert money(ledger) == (D("100.00"), D("95.00"), D("85.00"), D("10.00"))


def test_adjustment_quantities_are_kept_and_netted() -> None:
    ledger = post_all(answer("835:T4:PCN1:1", line(1, "90.00", "30.00", adj("CO", "151", "60.00", quantity="2"))))
    assert ledger[0].adjustments[0].quantity == D("2")
    reversed_ = ledger + post(
        ledger,
        answer(
            "835:T5:PCN1:22",
            *ORIGINAL.lines[:0],
            line(1, "90.00", "30.00", adj("CO", "151", "60.00", quantity="2")),
            reversal=True,
        ),
    )
    assert reversed_[-1].adjustments[0].quantity == D("-2")
    assert totals(reversed_).adjustments == []


class TestDecisionRemarks:
    LINES = [BilledLine(line_number=1, charge=D("45.00"))]

    def test_a_partial_decision_carries_its_lines_rarc_remarks_into_the_adjudication(self) -> None:
        decision = Decision(
            action=DecisionAction.PARTIAL,
            lines=[
                LineDecision(line_number=1, approved_amount=D("36.00"), reason_code="45", remark_codes=["n130", "M15"])
            ],
        )
        (adjudicated,) = adjudicate(decision, self.LINES)
        assert adjudicated.remark_codes == ["N130", "M15"]
        assert adjudicated.adjustments == [adj("CO", "45", "9.00")]

    def test_a_denial_adjudicates_every_line_to_zero_with_its_reason_and_corrects_what_stands(self) -> None:
        decision = Decision(action=DecisionAction.DENY, reason_code="50")
        denied = adjudicate(decision, self.LINES)
        assert [(a.paid, a.adjustments) for a in denied] == [(D("0.00"), [adj("CO", "50", "45.00")])]
        processor = answer("status:5", line(1, "45.00", "36.00", adj("CO", "45", "9.00")), replaces_standing=True)
        adjuster = answer("status:6", *denied, source=LedgerSource.ADJUSTER, replaces_standing=True)
        ledger = post_all(processor, adjuster)
        assert money(ledger) == (D("45.00"), D("0.00"), D("0.00"), D("0.00"))
        assert totals(ledger).adjustments == [adj("CO", "50", "45.00")]

    @pytest.mark.parametrize("code", ["45", "CO45", "N", "X130", "N12345", "MA"])
    def test_a_remark_that_is_not_rarc_shaped_is_refused_with_what_to_send(self, code: str) -> None:
        with pytest.raises(ValidationError, match="must be a RARC remark code"):
            LineDecision(line_number=1, approved_amount=D("36.00"), reason_code="45", remark_codes=[code])
