"""Scrubber edits on the lines: NCCI PTP pairs (dates, modifier indicator), MUEs per line and per day, repeated tests."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from domain.claim import Claim
from domain.codes import CodeSets
from domain.edit_tables import EditTables, ModifierIndicator, MueAdjudication, MueEdit, PtpEdit
from domain.validation import describe, duplicate_keys
from tests.domain.factories import line_body, make_claim
from tests.domain.validation.support import findings, report

DAY = date(2026, 11, 20)
TODAY = date(2026, 12, 1)
SCRUBBER_RULES = {"ncci.ptp", "mue.line", "mue.day", "repeat_test.modifier"}


def _ptp(c1: str, c2: str, indicator: str, start: date = date(2006, 1, 1), end: date | None = None) -> PtpEdit:
    return PtpEdit(
        column1=c1, column2=c2, effective_date=start, deletion_date=end, modifier_indicator=ModifierIndicator(indicator)
    )


def _mue(code: str, units: int, mai: int, quarter: date = date(2026, 10, 1)) -> MueEdit:
    return MueEdit(code=code, units=units, mai=MueAdjudication(mai), effective_date=quarter)


TABLES = EditTables(
    ptp=[
        _ptp("80053", "80048", "1"),
        _ptp("85025", "85027", "0"),
        _ptp("80053", "82947", "1", end=date(2026, 10, 1)),  # deleted from Q4 2026
        _ptp("80061", "83718", "1", start=date(2027, 1, 1)),  # not yet in force
        _ptp("81001", "81003", "9"),
    ],
    mue=[
        _mue("36415", 1, 2),
        _mue("87077", 10, 1),
        _mue("82947", 6, 3),
        _mue("85025", 2, 3, quarter=date(2026, 1, 1)),
        _mue("85025", 1, 3, quarter=date(2026, 10, 1)),
    ],
)
CODES = CodeSets(edits=TABLES)


def _line(n: int, code: str, *, on: date = DAY, modifiers: list[str] | None = None, units: int = 1) -> dict[str, Any]:
    return line_body(
        procedure_code=code, service_date=on, modifiers=modifiers or [], units=units, line_control_number=f"L{n}"
    )


def _claim(*lines: dict[str, Any], **overrides: Any) -> Claim:
    return make_claim(lines=list(lines), **overrides)


def _scrubbed(claim: Claim, codes: CodeSets = CODES) -> set[tuple[str, str]]:
    return {f for f in findings(claim, today=TODAY, codes=codes) if f[0] in SCRUBBER_RULES}


class TestPtp:
    @pytest.mark.parametrize(
        ("lines", "expected"),
        [
            pytest.param([("80053", []), ("80048", [])], {("ncci.ptp", "lines[1].procedure_code")}, id="bundled"),
            pytest.param([("80048", []), ("80053", [])], {("ncci.ptp", "lines[0].procedure_code")}, id="order-free"),
            pytest.param([("80053", []), ("80048", ["59"])], set(), id="indicator-1-59-bypasses"),
            pytest.param([("80053", []), ("80048", ["XU"])], set(), id="indicator-1-XU-bypasses"),
            pytest.param([("80053", ["XE"]), ("80048", [])], set(), id="modifier-on-column-1"),
            pytest.param([("80053", []), ("80048", ["QW"])], {("ncci.ptp", "lines[1].procedure_code")}, id="not-ncci"),
            pytest.param(
                [("85025", []), ("85027", ["59"])], {("ncci.ptp", "lines[1].procedure_code")}, id="indicator-0-59"
            ),
            pytest.param(
                [("85025", []), ("85027", ["91"])], {("ncci.ptp", "lines[1].procedure_code")}, id="indicator-0-91"
            ),
            pytest.param([("81001", []), ("81003", [])], set(), id="indicator-9-not-applicable"),
            pytest.param([("80053", []), ("82947", [])], set(), id="deleted-before-the-service-date"),
            pytest.param([("80061", []), ("83718", [])], set(), id="not-yet-in-force"),
            pytest.param([("80053", []), ("85025", [])], set(), id="no-pair"),
        ],
    )
    def test_pairs_on_one_day(self, lines: list[tuple[str, list[str]]], expected: set[tuple[str, str]]) -> None:
        claim = _claim(*(_line(n, code, modifiers=mods) for n, (code, mods) in enumerate(lines, start=1)))
        assert _scrubbed(claim) == expected

    def test_a_pair_on_different_days_does_not_fire(self) -> None:
        assert _scrubbed(_claim(_line(1, "80053"), _line(2, "80048", on=date(2026, 11, 21)))) == set()

    def test_a_deleted_pair_still_fires_before_its_deletion(self) -> None:
        before = date(2026, 9, 30)
        claim = _claim(_line(1, "80053", on=before), _line(2, "82947", on=before))
        assert _scrubbed(claim) == {("ncci.ptp", "lines[1].procedure_code")}

    def test_the_message_names_both_lines_the_day_and_the_fix(self) -> None:
        issue = report(_claim(_line(1, "80053"), _line(2, "80048")), today=TODAY, codes=CODES).errors[0]
        assert issue.message.startswith("lines[1] 80048 is bundled into lines[0] 80053 on 2026-11-20")
        assert "drop it, or add modifier 59" in issue.message
        assert issue.params == {"line": "0", "indicator": "1"}

    def test_an_indicator_0_message_offers_no_modifier(self) -> None:
        issue = report(_claim(_line(1, "85025"), _line(2, "85027")), today=TODAY, codes=CODES).errors[0]
        assert "never paid together" in issue.message
        assert "modifier 59" not in issue.message


class TestMue:
    @pytest.mark.parametrize(
        ("lines", "expected"),
        [
            pytest.param([("87077", 10)], set(), id="line-at-limit"),
            pytest.param([("87077", 11)], {("mue.line", "lines[0].units")}, id="line-over"),
            pytest.param([("87077", 10), ("87077", 10)], {("repeat_test.modifier", "lines[1].modifiers")}, id="mai1"),
            pytest.param([("36415", 1)], set(), id="day-at-limit"),
            pytest.param([("36415", 2)], {("mue.day", "lines[0].units")}, id="day-over-one-line"),
            pytest.param(
                [("36415", 1), ("36415", 1, ["91"])], {("mue.day", "lines[0].units")}, id="day-over-across-lines"
            ),
            pytest.param([("82947", 3), ("82947", 3, ["91"])], set(), id="day-mai3-at-limit"),
            pytest.param([("82947", 4), ("82947", 3, ["91"])], {("mue.day", "lines[0].units")}, id="day-mai3-over"),
        ],
    )
    def test_units(self, lines: list[tuple[Any, ...]], expected: set[tuple[str, str]]) -> None:
        built = [
            _line(n, spec[0], units=spec[1], modifiers=spec[2] if len(spec) > 2 else None)
            for n, spec in enumerate(lines, start=1)
        ]
        assert _scrubbed(_claim(*built)) == expected

    def test_per_day_counts_only_the_same_day(self) -> None:
        claim = _claim(_line(1, "36415"), _line(2, "36415", on=date(2026, 11, 21)))
        assert _scrubbed(claim) == set()

    def test_the_quarter_in_force_on_the_service_date_decides(self) -> None:
        two = _line(1, "85025", units=2, on=date(2026, 9, 30))
        assert _scrubbed(_claim(two)) == set()  # 2 a day until Q3 2026
        assert _scrubbed(_claim({**two, "service_date": "2026-10-01"})) == {("mue.day", "lines[0].units")}

    def test_a_code_before_its_first_quarter_has_no_mue(self) -> None:
        assert _scrubbed(_claim(_line(1, "36415", units=5, on=date(2026, 9, 1)))) == set()

    def test_the_day_message_adds_the_lines_up(self) -> None:
        claim = _claim(_line(1, "36415"), _line(2, "36415", modifiers=["91"]))
        issue = report(claim, today=TODAY, codes=CODES).errors[0]
        assert issue.params == {"limit": "1", "mai": "2"}
        assert issue.message.startswith("lines[0], lines[1] bill 2 units of 36415 on 2026-11-20")
        assert "at most 1 a day" in issue.message

    def test_the_line_message_says_the_limit(self) -> None:
        issue = report(_claim(_line(1, "87077", units=12)), today=TODAY, codes=CODES).errors[0]
        assert issue.message.startswith("lines[0] bills 12 units of 87077 and CMS allows at most 10 on one line")


class TestRepeatTest:
    @pytest.mark.parametrize(
        ("modifiers", "fires"),
        [([], True), (["91"], False), (["59"], False), (["XS"], False), (["QW"], True), (["26"], True)],
    )
    def test_a_repeat_on_one_day_needs_91_or_59(self, modifiers: list[str], fires: bool) -> None:
        claim = _claim(_line(1, "85027"), _line(2, "85027", modifiers=modifiers))
        expected = {("repeat_test.modifier", "lines[1].modifiers")} if fires else set()
        assert _scrubbed(claim) == expected

    def test_the_same_test_on_another_day_is_no_repeat(self) -> None:
        assert _scrubbed(_claim(_line(1, "85027"), _line(2, "85027", on=date(2026, 11, 21)))) == set()

    def test_every_repeat_is_named_against_the_first(self) -> None:
        claim = _claim(_line(1, "84443"), _line(2, "84443"), _line(3, "84443"))
        issues = report(claim, today=TODAY, codes=CODES).errors
        assert [(i.path, i.params) for i in issues] == [
            ("lines[1].modifiers", {"line": "0"}),
            ("lines[2].modifiers", {"line": "0"}),
        ]
        assert issues[0].message.startswith("lines[1] repeats lines[0] 84443 on 2026-11-20 without modifier 91")


class TestClaimKinds:
    def test_without_edit_tables_nothing_is_scrubbed(self) -> None:
        claim = _claim(_line(1, "80053"), _line(2, "80048"), _line(3, "80048"), _line(4, "36415", units=3))
        assert _scrubbed(claim, CodeSets()) == set()

    def test_a_replacement_repeating_its_original_is_no_duplicate_and_scrubbed_alike(self) -> None:
        lines = (_line(1, "80053"), _line(2, "85025"))
        original = _claim(*lines)
        replacement = _claim(*lines, frequency_code="7", original_payer_claim_id="PAYER-CLM-1")
        assert duplicate_keys(replacement) == []
        assert _scrubbed(original) == _scrubbed(replacement) == set()

    def test_a_void_is_not_scrubbed(self) -> None:
        lines = (_line(1, "80053"), _line(2, "80048"), _line(3, "36415", units=4))
        assert _scrubbed(_claim(*lines)) != set()
        assert _scrubbed(_claim(*lines, frequency_code="8", original_payer_claim_id="PAYER-CLM-1")) == set()


def _claim_values(claim: Claim) -> set[str]:
    """The values a finding must not copy: codes, modifiers, dates, names, ids and control numbers."""
    values = {claim.patient.first_name, claim.patient.last_name, claim.patient.date_of_birth.isoformat()}
    values |= {claim.patient.member_id, claim.insurance.member_id, claim.patient_control_number}
    values |= set(claim.diagnosis_codes)
    for line in claim.lines:
        values |= {line.procedure_code, line.service_date.isoformat(), line.line_control_number, *line.modifiers}
    return values


def test_findings_carry_no_claim_values_and_render_the_same_from_the_claim() -> None:
    claim = _claim(
        _line(1, "80053"),
        _line(2, "80048"),
        _line(3, "85025"),
        _line(4, "85027", modifiers=["59"]),
        _line(5, "36415", units=3),
        _line(6, "87077", units=20),
        _line(7, "80048", modifiers=["QW"]),
    )
    issues = [i for i in report(claim, today=TODAY, codes=CODES).issues if i.rule_id in SCRUBBER_RULES]
    assert {i.rule_id for i in issues} == SCRUBBER_RULES
    forbidden = _claim_values(claim)
    for issue in issues:
        assert not set(issue.params.values()) & forbidden, issue
        assert describe(issue.finding(), claim) == issue
