"""Claim lineage: the replacement and void built from an original, the void's ledger reversal, the links both ways."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from domain.adjudication import LineAdjudication
from domain.claim import FrequencyCode
from domain.ledger import LedgerKind, LedgerSource, PaymentAnswer, post, totals
from domain.lineage import (
    Lineage,
    LineageKind,
    PayerMismatchError,
    kind_of,
    lineage_of,
    replacement,
    void_of,
    void_reversal,
)
from tests.domain.factories import make_claim

AT = datetime(2026, 12, 1, tzinfo=UTC)


@pytest.mark.parametrize(
    ("frequency", "kind"),
    [
        (FrequencyCode.ORIGINAL, None),
        (FrequencyCode.REPLACEMENT, LineageKind.REPLACES),
        (FrequencyCode.VOID, LineageKind.VOIDS),
    ],
)
def test_the_frequency_code_says_how_a_claim_relates_to_its_original(
    frequency: FrequencyCode, kind: LineageKind | None
) -> None:
    assert kind_of(frequency) is kind


def test_a_replacement_is_the_body_as_sent_with_frequency_7_naming_the_original() -> None:
    original, body = make_claim(), make_claim(total_charge="45.00")
    sent = replacement(body, original, "PCN-1")
    assert (sent.frequency_code, sent.original_payer_claim_id) == (FrequencyCode.REPLACEMENT, "PCN-1")
    assert sent.lines == body.lines


def test_a_replacement_to_another_payer_is_refused_naming_the_field() -> None:
    original = make_claim()
    body = make_claim(insurance={"payer_id": "OTHER"})
    with pytest.raises(PayerMismatchError, match=r"^insurance\.payer_id: a corrected claim goes to"):
        replacement(body, original, "PCN-1")


def test_a_void_is_the_original_with_frequency_8_naming_it() -> None:
    original = make_claim()
    void = void_of(original, "PCN-1")
    assert (void.frequency_code, void.original_payer_claim_id) == (FrequencyCode.VOID, "PCN-1")
    assert (
        void.model_copy(update={"frequency_code": original.frequency_code, "original_payer_claim_id": None}) == original
    )


def test_the_void_reversal_backs_out_what_stands_once_and_leaves_nothing_paid() -> None:
    paid = LineAdjudication(line_number=1, billed=Decimal("45.00"), allowed=Decimal("45.00"), paid=Decimal("45.00"))
    answer = PaymentAnswer(
        remittance_id="status:4", source=LedgerSource.PROCESSOR, at=AT, payer_claim_id="PCN-1", lines=[paid]
    )
    ledger = post([], answer)
    reversal = void_reversal("v" * 32, "PCN-1", AT)
    backed_out = post(ledger, reversal)
    assert [(e.kind, e.line_number, e.paid, e.reverses) for e in backed_out] == [
        (LedgerKind.REVERSAL, 1, Decimal("-45.00"), "status:4")
    ]
    assert totals([*ledger, *backed_out]).paid == Decimal("0.00")
    assert post([*ledger, *backed_out], reversal) == []  # the same void posts once


def test_lineage_names_the_original_and_the_claims_that_replace_or_void_it() -> None:
    successors = [("a" * 32, FrequencyCode.REPLACEMENT), ("b" * 32, FrequencyCode.VOID)]
    assert lineage_of(FrequencyCode.ORIGINAL, None, successors) == Lineage(replaced_by=["a" * 32], voided_by=["b" * 32])
    assert lineage_of(FrequencyCode.REPLACEMENT, "o" * 32, []) == Lineage(replaces="o" * 32)
    assert lineage_of(FrequencyCode.VOID, "o" * 32, []) == Lineage(voids="o" * 32)
