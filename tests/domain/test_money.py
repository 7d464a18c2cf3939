"""Money: parsing and JSON shape of Money/SignedMoney, rounding to cents half up, exact totals."""

from __future__ import annotations

import random
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import TypeAdapter, ValidationError

from domain.money import Money, SignedMoney, total

MONEY: TypeAdapter[Decimal] = TypeAdapter(Money)
SIGNED: TypeAdapter[Decimal] = TypeAdapter(SignedMoney)

CENTS = st.integers(min_value=-(10**12) + 1, max_value=10**12 - 1)
AMOUNTS = st.decimals(min_value=-(10**9), max_value=10**9, places=6, allow_nan=False, allow_infinity=False)


class TestMoneyParsing:
    @pytest.mark.parametrize(
        ("raw", "parsed"),
        [
            ("45.00", Decimal("45.00")),
            ("45", Decimal("45")),
            ("45.000", Decimal("45")),  # trailing zeros are not a fraction of a cent
            (" 45.10 ", Decimal("45.10")),
            ("0", Decimal("0")),
            ("9999999999.99", Decimal("9999999999.99")),
            (45, Decimal("45")),
        ],
    )
    def test_money_parses_non_negative_amounts_in_whole_cents(self, raw: Any, parsed: Decimal) -> None:
        assert MONEY.validate_python(raw) == parsed

    @pytest.mark.parametrize(
        "raw",
        ["-0.01", "45.005", "10000000000.00", "NaN", "Infinity", "-Infinity", "forty-five", ""],
        ids=["negative", "fraction-of-a-cent", "eleven-digits", "nan", "inf", "minus-inf", "words", "empty"],
    )
    def test_money_refuses_negative_sub_cent_oversized_and_non_numeric_amounts(self, raw: str) -> None:
        with pytest.raises(ValidationError):
            MONEY.validate_python(raw)

    def test_money_parses_a_json_string_and_a_json_number(self) -> None:
        assert MONEY.validate_json('"45.10"') == MONEY.validate_json("45.1") == Decimal("45.10")

    def test_signed_money_accepts_a_negative_amount(self) -> None:
        assert SIGNED.validate_python("-12.34") == Decimal("-12.34")

    @pytest.mark.parametrize("raw", ["-0.001", "10000000000.00", "NaN"])
    def test_signed_money_refuses_sub_cent_oversized_and_nan_amounts(self, raw: str) -> None:
        with pytest.raises(ValidationError):
            SIGNED.validate_python(raw)


class TestMoneySerialization:
    @pytest.mark.parametrize(
        ("amount", "json"),
        [
            ("45", b'"45.00"'),
            ("45.5", b'"45.50"'),
            ("0", b'"0.00"'),
            ("1E+2", b'"100.00"'),
            ("9999999999.99", b'"9999999999.99"'),
        ],
    )
    def test_money_leaves_json_as_a_string_with_two_decimals(self, amount: str, json: bytes) -> None:
        assert MONEY.dump_json(Decimal(amount)) == json

    def test_money_stays_a_decimal_in_python_mode(self) -> None:
        dumped = MONEY.dump_python(Decimal("45.5"))
        assert isinstance(dumped, Decimal)
        assert dumped == Decimal("45.5")

    def test_signed_money_leaves_json_with_its_sign(self) -> None:
        assert SIGNED.dump_json(Decimal("-3")) == b'"-3.00"'

    @given(cents=st.integers(0, 10**12 - 1))
    def test_money_round_trips_through_json_unchanged(self, cents: int) -> None:
        amount = Decimal(cents) / 100
        assert MONEY.validate_json(MONEY.dump_json(amount)) == amount


class TestTotal:
    def test_total_of_nothing_is_zero_with_cents(self) -> None:
        assert str(total([])) == "0.00"

    def test_total_adds_tenths_exactly(self) -> None:
        assert total([Decimal("0.10")] * 3) == Decimal("0.30")

    @given(cents=st.lists(CENTS, max_size=50))
    def test_total_equals_the_integer_sum_of_the_cents(self, cents: list[int]) -> None:
        assert total([Decimal(c) / 100 for c in cents]) == Decimal(sum(cents)) / 100

    @given(cents=st.lists(CENTS, max_size=50), seed=st.randoms(use_true_random=False))
    def test_total_does_not_depend_on_order(self, cents: list[int], seed: random.Random) -> None:
        amounts = [Decimal(c) / 100 for c in cents]
        shuffled = list(amounts)
        seed.shuffle(shuffled)
        assert total(shuffled) == total(amounts)

    @given(cents=st.lists(CENTS, max_size=50))
    def test_total_of_whole_cents_is_written_with_exactly_two_decimals(self, cents: list[int]) -> None:
        # Decimal(4500) / 100 is Decimal("45"): the total still reads "45.00".
        result = total([Decimal(c) / 100 for c in cents])
        assert result.as_tuple().exponent == -2
