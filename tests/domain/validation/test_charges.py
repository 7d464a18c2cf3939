"""Money and count rules: positive charges in cents, positive units, a total that adds up."""

from __future__ import annotations

from decimal import Decimal

from tests.domain.factories import line_body, make_claim
from tests.domain.validation.support import findings


class TestCharge:
    def test_positive_charge_passes(self) -> None:
        assert findings(make_claim(lines__0__charge="0.01")) == set()

    def test_zero_charge_fails(self) -> None:
        assert findings(make_claim(lines__0__charge="0.00")) == {("charge.positive", "lines[0].charge")}

    def test_whole_cents_pass(self) -> None:
        assert findings(make_claim(lines__0__charge="45.000")) == set()

    def test_fractions_of_a_cent_fail(self) -> None:
        # Parsing refuses a third decimal; a claim built without parsing is still caught.
        claim = make_claim()
        line = claim.lines[0].model_copy(update={"charge": Decimal("45.005")})
        claim = claim.model_copy(update={"lines": [line], "total_charge": Decimal("45.005")})
        assert findings(claim) == {("charge.cents", "lines[0].charge")}


class TestUnits:
    def test_one_unit_passes(self) -> None:
        assert findings(make_claim(lines__0__units=1)) == set()

    def test_zero_units_fail(self) -> None:
        assert findings(make_claim(lines__0__units=0)) == {("units.positive", "lines[0].units")}


class TestTotal:
    def test_total_equal_to_the_sum_passes(self) -> None:
        lines = [line_body(charge="10.10"), line_body(charge="20.20", line_control_number="L2")]
        assert findings(make_claim(lines=lines, total_charge="30.30")) == set()

    def test_total_off_by_a_cent_fails(self) -> None:
        claim = make_claim(total_charge="45.01")
        assert findings(claim) == {("total_charge.sum", "total_charge")}
