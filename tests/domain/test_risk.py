"""The risk screen on crafted claims: each rule kind fires on its case and stays quiet beside it; scores, the
external score, parameters refused by name."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest

from domain.edit_tables import EditTables, ModifierIndicator, PtpEdit
from domain.risk import (
    EXTERNAL_REASON,
    EXTERNAL_UNAVAILABLE_REASON,
    ExternalScore,
    PriorClaim,
    RiskHistory,
    RiskLine,
    RiskParamsError,
    RiskRule,
    RiskRuleKind,
    RiskScore,
    holds,
    parse_params,
    percentile,
    screen,
    with_external,
)

DAY = date(2026, 11, 2)
NO_PAIRS = EditTables()
#: 80053 (comprehensive panel) bundles 80048 (basic panel); a modifier may bypass it (indicator 1).
PANELS = EditTables(
    ptp=[
        PtpEdit(
            column1="80053",
            column2="80048",
            effective_date=date(2006, 1, 1),
            modifier_indicator=ModifierIndicator.ALLOWED,
        )
    ]
)


def line(code: str = "80053", charge: str = "100.00", on: date = DAY, *modifiers: str, number: int = 1) -> RiskLine:
    return RiskLine(
        line_number=number, procedure_code=code, modifiers=list(modifiers), charge=Decimal(charge), service_date=on
    )


def prior(claim_id: str, *lines: RiskLine) -> PriorClaim:
    return PriorClaim(claim_id=claim_id, lines=list(lines))


def rule(kind: RiskRuleKind, weight: int = 40, **params: Any) -> RiskRule:
    return RiskRule(rule_id=kind.value.replace("_", "-"), kind=kind, params=params, weight=weight)


def score_of(
    kind: RiskRuleKind, lines: list[RiskLine], history: RiskHistory, pairs: EditTables = NO_PAIRS, **params: Any
) -> RiskScore:
    return screen(lines, history, [rule(kind, **params)], pairs)


class TestExactDuplicate:
    def test_fires_on_the_same_codes_dates_and_charges_as_an_earlier_claim(self) -> None:
        lines = [line("80053", "100.00"), line("85025", "20.00", number=2)]
        history = RiskHistory(prior_claims=[prior("c-earlier", line("85025", "20.00"), line("80053", "100.00"))])
        result = score_of(RiskRuleKind.EXACT_DUPLICATE, lines, history)
        assert result.score == 40
        assert [r.rule_id for r in result.reasons] == ["exact-duplicate"]
        assert "c-earlier" in result.reasons[0].message
        assert "80053, 85025" in result.reasons[0].message

    @pytest.mark.parametrize(
        "earlier",
        [
            [line("80053", "100.01"), line("85025", "20.00")],  # another charge
            [line("80053", "100.00"), line("85025", "20.00", DAY + timedelta(days=1))],  # another day
            [line("80053", "100.00")],  # fewer lines
        ],
        ids=["charge", "date", "lines"],
    )
    def test_quiet_when_any_line_differs(self, earlier: list[RiskLine]) -> None:
        lines = [line("80053", "100.00"), line("85025", "20.00", number=2)]
        history = RiskHistory(prior_claims=[prior("c-earlier", *earlier)])
        assert score_of(RiskRuleKind.EXACT_DUPLICATE, lines, history) == RiskScore(score=0)


class TestNearDuplicate:
    def test_fires_on_the_same_procedure_within_the_window_and_tolerance(self) -> None:
        history = RiskHistory(prior_claims=[prior("c-1", line("85025", "95.00", DAY - timedelta(days=5)))])
        result = score_of(
            RiskRuleKind.NEAR_DUPLICATE,
            [line("85025", "100.00")],
            history,
            window_days=7,
            charge_tolerance_percent=10,
        )
        assert result.score == 40
        assert result.reasons[0].message.startswith("procedure 85025 billed for the patient on 1 earlier claim")

    @pytest.mark.parametrize(
        ("charge", "days_before"), [("80.00", 5), ("100.00", 8)], ids=["charge-outside-tolerance", "outside-window"]
    )
    def test_quiet_outside_the_window_or_the_tolerance(self, charge: str, days_before: int) -> None:
        history = RiskHistory(prior_claims=[prior("c-1", line("85025", charge, DAY - timedelta(days=days_before)))])
        result = score_of(
            RiskRuleKind.NEAR_DUPLICATE, [line("85025", "100.00")], history, window_days=7, charge_tolerance_percent=10
        )
        assert result.score == 0

    def test_leaves_an_exact_duplicate_to_its_own_rule(self) -> None:
        history = RiskHistory(prior_claims=[prior("c-1", line("85025", "100.00"))])
        rules = [rule(RiskRuleKind.EXACT_DUPLICATE, 50), rule(RiskRuleKind.NEAR_DUPLICATE, 30)]
        result = screen([line("85025", "100.00")], history, rules, NO_PAIRS)
        assert [(r.rule_id, r.weight) for r in result.reasons] == [("exact-duplicate", 50)]
        assert result.score == 50


class TestFrequencyLimit:
    def test_fires_above_the_count_within_the_window(self) -> None:
        earlier = [prior(f"c-{n}", line("87086", "30.00", DAY - timedelta(days=n * 7))) for n in (1, 2, 3)]
        result = score_of(
            RiskRuleKind.FREQUENCY_LIMIT,
            [line("87086", "30.00")],
            RiskHistory(prior_claims=earlier),
            max_count=3,
            window_days=30,
        )
        assert result.score == 40
        assert result.reasons[0].message == "billed for the patient more than 3 times in 30 days: 87086 4 times"

    def test_quiet_at_the_count_and_when_the_oldest_falls_outside_the_window(self) -> None:
        at_limit = [prior(f"c-{n}", line("87086", "30.00", DAY - timedelta(days=n * 7))) for n in (1, 2)]
        spread = [prior(f"c-{n}", line("87086", "30.00", DAY - timedelta(days=n * 10))) for n in (1, 2, 3)]
        for earlier in (at_limit, spread):
            result = score_of(
                RiskRuleKind.FREQUENCY_LIMIT,
                [line("87086", "30.00")],
                RiskHistory(prior_claims=earlier),
                max_count=3,
                window_days=30,
            )
            assert result.score == 0

    def test_counts_the_claims_own_lines(self) -> None:
        lines = [line("87086", "30.00", DAY + timedelta(days=n), number=n + 1) for n in range(3)]
        result = score_of(RiskRuleKind.FREQUENCY_LIMIT, lines, RiskHistory(), max_count=2, window_days=7)
        assert result.score == 40


class TestChargeOutlier:
    history = RiskHistory(prior_charges={"85025": [Decimal(str(20 + n % 5)) for n in range(40)]})

    def test_fires_above_the_percentile(self) -> None:
        result = score_of(
            RiskRuleKind.CHARGE_OUTLIER,
            [line("85025", "25.00")],
            self.history,
            percentile=95,
            median_multiple=None,
            min_history=20,
        )
        assert result.score == 40
        assert "85025 25.00 above p95 24.00 of 40 earlier lines" in result.reasons[0].message

    def test_fires_above_a_multiple_of_the_median(self) -> None:
        result = score_of(
            RiskRuleKind.CHARGE_OUTLIER,
            [line("85025", "67.00")],
            self.history,
            percentile=None,
            median_multiple=3,
            min_history=20,
        )
        assert "above 3x the median (66.00)" in result.reasons[0].message

    def test_quiet_within_the_history_and_without_enough_of_it(self) -> None:
        usual = score_of(RiskRuleKind.CHARGE_OUTLIER, [line("85025", "24.00")], self.history, percentile=95)
        unknown = score_of(RiskRuleKind.CHARGE_OUTLIER, [line("85025", "999.00")], self.history, min_history=41)
        assert (usual.score, unknown.score) == (0, 0)


class TestUnbundling:
    def test_fires_on_a_pair_split_across_claims_on_one_day(self) -> None:
        history = RiskHistory(prior_claims=[prior("c-panel", line("80053", "100.00"))])
        result = score_of(RiskRuleKind.UNBUNDLING, [line("80048", "50.00")], history, PANELS)
        assert result.score == 40
        assert result.reasons[0].message.endswith("80053+80048 split with earlier claim c-panel")

    def test_fires_on_a_pair_on_the_claim_let_through_by_a_modifier(self) -> None:
        lines = [line("80053", "100.00"), line("80048", "50.00", DAY, "59", number=2)]
        result = score_of(RiskRuleKind.UNBUNDLING, lines, RiskHistory(), PANELS)
        assert "80053+80048 on this claim with a bypass modifier" in result.reasons[0].message

    def test_quiet_on_another_day_or_when_turned_off(self) -> None:
        other_day = RiskHistory(prior_claims=[prior("c-panel", line("80053", "100.00", DAY - timedelta(days=1)))])
        same_day = RiskHistory(prior_claims=[prior("c-panel", line("80053", "100.00"))])
        assert score_of(RiskRuleKind.UNBUNDLING, [line("80048")], other_day, PANELS).score == 0
        assert score_of(RiskRuleKind.UNBUNDLING, [line("80048")], same_day, PANELS, across_claims=False).score == 0


class TestScore:
    def test_sums_the_weights_that_fired_capped_at_100_and_skips_disabled_rules(self) -> None:
        history = RiskHistory(prior_claims=[prior("c-1", line("80053", "100.00"))])
        lines = [line("80053", "100.00")]
        rules = [
            rule(RiskRuleKind.EXACT_DUPLICATE, 70),
            RiskRule(rule_id="freq", kind=RiskRuleKind.FREQUENCY_LIMIT, params={"max_count": 1}, weight=60),
            RiskRule(rule_id="off", kind=RiskRuleKind.UNBUNDLING, weight=90, enabled=False),
        ]
        result = screen(lines, history, rules, PANELS)
        assert result.score == 100
        assert [r.rule_id for r in result.reasons] == ["exact-duplicate", "freq"]

    def test_holds_at_or_above_the_threshold(self) -> None:
        assert holds(RiskScore(score=50), 50)
        assert not holds(RiskScore(score=49), 50)

    def test_reasons_carry_no_member_or_patient_data(self) -> None:
        history = RiskHistory(prior_claims=[prior("c-1", line("80053", "100.00"))])
        result = screen([line("80053", "100.00")], history, [rule(RiskRuleKind.EXACT_DUPLICATE)], NO_PAIRS)
        assert set(result.reasons[0].model_dump()) == {"rule_id", "weight", "message"}

    def test_percentile_interpolates_between_ranks(self) -> None:
        values = [Decimal(v) for v in ("10", "20", "30", "40")]
        assert percentile(values, 50) == Decimal("25")
        assert percentile(values, 99) == Decimal("39.70")


class TestExternalScore:
    def test_the_higher_of_the_two_counts_with_its_reason_codes(self) -> None:
        rules = RiskScore(score=30)
        combined = with_external(rules, ExternalScore(score=80, reasons=["velocity", "free text!"]))
        assert combined.score == 80
        assert combined.reasons[-1].rule_id == EXTERNAL_REASON
        assert combined.reasons[-1].message == "external risk score 80 (velocity)"

    def test_unavailable_keeps_the_rules_score_and_says_so(self) -> None:
        combined = with_external(RiskScore(score=30), None)
        assert combined.score == 30
        assert combined.reasons[-1].rule_id == EXTERNAL_UNAVAILABLE_REASON


class TestParameters:
    @pytest.mark.parametrize(
        ("kind", "params", "path"),
        [
            (RiskRuleKind.NEAR_DUPLICATE, {"window_days": -1}, "params.window_days"),
            (RiskRuleKind.FREQUENCY_LIMIT, {"max_count": 0}, "params.max_count"),
            (RiskRuleKind.CHARGE_OUTLIER, {"percentile": 100}, "params.percentile"),
            (RiskRuleKind.CHARGE_OUTLIER, {"percentile": None, "median_multiple": None}, "params"),
            (RiskRuleKind.EXACT_DUPLICATE, {"window_days": 3}, "params.window_days"),
        ],
        ids=["negative-window", "zero-count", "percentile-100", "no-test", "unknown-name"],
    )
    def test_a_bad_parameter_is_named(self, kind: RiskRuleKind, params: dict[str, Any], path: str) -> None:
        with pytest.raises(RiskParamsError) as refused:
            parse_params(kind, params)
        assert refused.value.path == path

    def test_defaults_fill_what_is_left_out(self) -> None:
        assert parse_params(RiskRuleKind.FREQUENCY_LIMIT, {}).model_dump() == {"max_count": 3, "window_days": 30}
