"""An 835 read into the ledger's answers, posted through the ledger's rules: the samples' paid, partial, denied and
reversed claims, the PLB kept apart (and found by its remittance id), the same 835 twice (in other separators too), a
reversal before its original, and a processor's status answer that restates a posted 835."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from activities.x12.parse_835 import parse_835
from activities.x12.remittance_answer import RemittancePosting, posting
from domain.adjudication import Adjustment, GroupCode
from domain.ledger import (
    REMITTANCE_ID_PATTERN,
    LedgerEntry,
    LedgerKind,
    LedgerSource,
    PaymentAnswer,
    line_totals,
    post,
    totals,
)

SAMPLES = Path(__file__).parent / "x12_samples"
D = Decimal
AT = datetime(2026, 12, 5, tzinfo=UTC)


def read(name: str = "835.x12", text: str | None = None) -> RemittancePosting:
    (remittance,) = parse_835(text if text is not None else (SAMPLES / name).read_text())
    return posting(remittance, {"PAYERCLM0011": {"L1": 1, "L2": 2}}, at=AT)


def answers(name: str = "835.x12") -> dict[str, PaymentAnswer]:
    return {claim.payer_claim_id: claim.answer for claim in read(name).claims}


def adj(group: str, reason: str, amount: str) -> Adjustment:
    return Adjustment(group_code=GroupCode(group), reason_code=reason, amount=D(amount))


def posted(*each: PaymentAnswer) -> list[LedgerEntry]:
    ledger: list[LedgerEntry] = []
    for answer in each:
        ledger += post(ledger, answer)
    return ledger


def money(entries: list[LedgerEntry]) -> tuple[Decimal, ...]:
    t = totals(entries)
    return (t.billed, t.allowed, t.paid, t.patient_responsibility)


@pytest.mark.parametrize(
    ("payer_claim_id", "expected", "adjustments"),
    [
        ("PAYERCLM0010", ("45.00", "36.00", "36.00", "0.00"), [adj("CO", "45", "9.00")]),
        (
            "PAYERCLM0011",
            ("160.00", "90.00", "70.00", "20.00"),
            [adj("CO", "45", "10.00"), adj("PR", "2", "20.00"), adj("CO", "50", "60.00")],
        ),
        ("PAYERCLM0012", ("60.00", "0.00", "0.00", "0.00"), [adj("CO", "50", "60.00")]),
        ("PAYERCLM0000", ("-80.00", "-64.00", "-64.00", "0.00"), [adj("CO", "45", "-16.00")]),
    ],
    ids=["paid", "partial", "denied", "reversal"],
)
def test_each_claim_payment_of_the_sample_posts_the_claims_totals(payer_claim_id, expected, adjustments) -> None:
    ledger = posted(answers()[payer_claim_id])
    assert money(ledger) == tuple(D(x) for x in expected)
    assert totals(ledger).adjustments == adjustments


def test_the_partial_claims_lines_are_matched_by_control_number_with_their_remarks() -> None:
    one, two = line_totals(posted(answers()["PAYERCLM0011"]))
    assert (one.line_number, one.allowed, one.paid, one.patient_responsibility) == (
        1,
        D("90.00"),
        D("70.00"),
        D("20.00"),
    )
    assert (two.line_number, two.paid, two.adjustments) == (2, D("0.00"), [adj("CO", "50", "60.00")])
    assert posted(answers()["PAYERCLM0011"])[1].remark_codes == ["N115"]


def test_the_denied_claim_without_lines_posts_one_claim_level_entry_with_its_remark() -> None:
    (entry,) = posted(answers()["PAYERCLM0012"])
    assert (entry.line_number, entry.kind, entry.remark_codes) == (None, LedgerKind.ADJUDICATION, ["N130"])


def test_the_reversal_is_a_reversal_answer_whose_entries_are_negative() -> None:
    reversal = answers()["PAYERCLM0000"]
    assert reversal.reversal and reversal.lines[0].paid == D("64.00")  # the original's amounts …
    (entry,) = posted(reversal)
    assert (entry.kind, entry.paid, entry.adjustments) == (
        LedgerKind.REVERSAL,
        D("-64.00"),
        [adj("CO", "45", "-16.00")],
    )


def test_provider_level_adjustments_are_kept_apart_from_the_claims() -> None:
    read_ = read()
    assert [(p.position, p.reason_code, p.reference, p.amount) for p in read_.provider_adjustments] == [
        (1, "L6", "LAB-000131", D("-2.50")),
        (2, "WO", "PAYERCLM0000", D("10.00")),
    ]
    claims_paid = sum((totals(posted(c.answer)).paid for c in read_.claims), D(0))
    plb = sum((p.amount for p in read_.provider_adjustments), D(0))
    assert claims_paid - plb == D("34.50")  # BPR02: the money that moved


def test_the_same_835_twice_and_in_other_separators_posts_nothing_new() -> None:
    first = answers()
    for again in (answers(), answers("835_other_separators.x12")):
        for payer_claim_id, answer in again.items():
            ledger = posted(first[payer_claim_id])
            assert post(ledger, answer) == []


def test_a_reversal_before_its_original_leaves_the_claim_at_zero() -> None:
    original_835 = (
        (SAMPLES / "835.x12")
        .read_text()
        .replace("EFT0000012345", "EFT0000009999")
        .replace("CLP*LAB-000120*22*-80.00*-64.00", "CLP*LAB-000120*1*80.00*64.00")
        .replace("SVC*HC:80053*-80.00*-64.00", "SVC*HC:80053*80.00*64.00")
        .replace("CAS*CO*45*-16.00", "CAS*CO*45*16.00")
    )
    original = {c.payer_claim_id: c.answer for c in read(text=original_835).claims}["PAYERCLM0000"]
    reversal = answers()["PAYERCLM0000"]
    assert not original.reversal and original.remittance_id != reversal.remittance_id

    for order in ((reversal, original), (original, reversal)):
        ledger = posted(*order)
        assert money(ledger) == (D("0.00"),) * 4 and totals(ledger).adjustments == []


def test_a_trace_number_with_a_colon_still_names_the_remittance_its_plb_carries() -> None:
    text = (SAMPLES / "835_other_separators.x12").read_text().replace("EFT0000012345", "EFT:12345")
    read_ = read(text=text)
    remittances = {p.remittance_id for p in read_.provider_adjustments}

    assert remittances == {"835:1512345678:EFT%3A12345"}
    for claim in read_.claims:  # what the ledger read matches an answer's remittance by (db/repositories/ledger.py)
        match = re.match(REMITTANCE_ID_PATTERN, claim.answer.remittance_id)
        assert match is not None and match.group(0) in remittances


def test_a_processor_status_answer_restating_the_posted_835_adds_nothing_and_one_that_differs_replaces_it() -> None:
    ledger = posted(answers()["PAYERCLM0011"])
    lines = answers()["PAYERCLM0011"].lines
    restated = PaymentAnswer(
        remittance_id="status:5", source=LedgerSource.PROCESSOR, at=AT, replaces_standing=True, lines=lines
    )
    assert post(ledger, restated) == []

    differs = restated.model_copy(update={"lines": lines[:1]})
    assert [e.kind for e in post(ledger, differs)] == [LedgerKind.REVERSAL, LedgerKind.REVERSAL, LedgerKind.CORRECTION]
    by_adjuster = restated.model_copy(update={"source": LedgerSource.ADJUSTER})
    assert len(post(ledger, by_adjuster)) == 4  # an adjuster's decision always posts (reversal and correction)


def test_a_void_after_an_835_without_lines_still_reverses_its_claim_level_entry() -> None:
    ledger = posted(answers()["PAYERCLM0012"])  # the denial: one claim-level entry, no lines
    void = PaymentAnswer(
        remittance_id="void:c2",
        source=LedgerSource.PROCESSOR,
        at=AT,
        payer_claim_id="PAYERCLM0012",
        replaces_standing=True,
    )
    (reversal,) = post(ledger, void)
    assert (reversal.kind, reversal.line_number, reversal.billed) == (LedgerKind.REVERSAL, None, D("-60.00"))
    assert money([*ledger, reversal]) == (D("0.00"),) * 4
