"""Scrubber edits on the diagnoses, from the Medicare Code Editor's lists: age on the service date, sex, manifestation."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from domain.claim import Claim
from domain.codes import CodeSets
from domain.edit_tables import EditTables, MceEdit, MceEditKind, age_on
from domain.validation import describe
from tests.domain.factories import line_body, make_claim
from tests.domain.validation.support import findings, report

DAY = date(2026, 11, 20)
TODAY = date(2026, 12, 1)
MCE_RULES = {"mce.age", "mce.sex", "mce.manifestation"}


def _listed(code: str, *kinds: MceEditKind, start: date = date(2015, 10, 1), end: date | None = None) -> list[MceEdit]:
    return [MceEdit(code=code, kind=kind, effective_date=start, termination_date=end) for kind in kinds]


CODES = CodeSets(
    edits=EditTables(
        mce=[
            *_listed("P07.30", MceEditKind.NEWBORN),
            *_listed("E30.1", MceEditKind.PEDIATRIC),
            *_listed("Z34.00", MceEditKind.MATERNITY, MceEditKind.FEMALE),
            *_listed("N40.0", MceEditKind.ADULT, MceEditKind.MALE),
            *_listed("Z12.5", MceEditKind.MALE),
            *_listed("G63", MceEditKind.MANIFESTATION),
            *_listed("F90.0", MceEditKind.PEDIATRIC, end=date(2025, 9, 30)),  # dropped from the list in FY2026
        ]
    )
)


def _claim(code: str, *, born: date, sex: str = "F", on: date = DAY, **overrides: Any) -> Claim:
    return make_claim(
        diagnosis_codes=["I10", code],
        patient={"date_of_birth": born, "sex": sex},
        lines=[line_body(service_date=on, diagnosis_pointers=[1, 2])],
        **overrides,
    )


def _mce(claim: Claim) -> set[tuple[str, str]]:
    return {f for f in findings(claim, today=TODAY, codes=CODES) if f[0] in MCE_RULES}


@pytest.mark.parametrize("born", [date(2026, 11, 1), date(2025, 11, 21)], ids=["days-old", "364-days-old"])
def test_age_counts_whole_years_only(born: date) -> None:
    assert age_on(born, DAY) == 0


@pytest.mark.parametrize(
    ("code", "born", "fires"),
    [
        ("P07.30", date(2026, 11, 1), False),  # newborn: age 0
        ("P07.30", date(2025, 11, 20), True),  # turned 1 on the service date
        ("E30.1", date(2009, 11, 21), False),  # pediatric: 17 until the day before the 18th birthday
        ("E30.1", date(2008, 11, 20), True),  # 18 on the service date
        ("Z34.00", date(2017, 11, 20), False),  # maternity from 9
        ("Z34.00", date(2018, 11, 21), True),  # 8
        ("Z34.00", date(1961, 11, 21), False),  # 64
        ("Z34.00", date(1961, 11, 20), True),  # 65
        ("N40.0", date(2011, 11, 20), False),  # adult from 15
        ("N40.0", date(2011, 11, 21), True),  # 14
        ("F90.0", date(1980, 1, 1), False),  # off the pediatric list by the service date
    ],
)
def test_age_edit_on_the_service_date(code: str, born: date, fires: bool) -> None:
    sex = "M" if code == "N40.0" else "F"
    expected = {("mce.age", "diagnosis_codes[1]")} if fires else set()
    assert _mce(_claim(code, born=born, sex=sex)) == expected


def test_age_is_taken_on_the_service_date_of_the_line_that_points_at_the_code() -> None:
    born = date(2008, 11, 25)  # 17 on the first line's date, 18 on the second's
    claim = make_claim(
        diagnosis_codes=["I10", "E30.1"],
        patient={"date_of_birth": born},
        lines=[
            line_body(service_date=date(2026, 11, 20), diagnosis_pointers=[1]),
            line_body(service_date=date(2026, 11, 27), diagnosis_pointers=[1, 2], line_control_number="L2"),
        ],
    )
    issue = report(claim, today=TODAY, codes=CODES).errors[0]
    assert (issue.rule_id, issue.params) == ("mce.age", {"edit": "pediatric", "line": "1", "low": "0", "high": "17"})
    assert issue.message == (
        "E30.1 is on the Medicare Code Editor's pediatric list (ages 0-17) and the patient is 18 on the service "
        "date of lines[1]; check the diagnosis code and the patient's date of birth"
    )


@pytest.mark.parametrize(
    ("code", "sex", "fires"),
    [
        ("Z34.00", "F", False),
        ("Z34.00", "M", True),
        ("Z34.00", "U", False),
        ("Z12.5", "M", False),
        ("Z12.5", "F", True),
        ("N40.0", "F", True),
    ],
)
def test_sex_edit(code: str, sex: str, fires: bool) -> None:
    expected = {("mce.sex", "diagnosis_codes[1]")} if fires else set()
    assert _mce(_claim(code, born=date(1980, 4, 2), sex=sex)) == expected


def test_sex_message_says_what_to_check() -> None:
    issue = report(_claim("Z12.5", born=date(1980, 4, 2), sex="F"), today=TODAY, codes=CODES).errors[0]
    assert issue.message.startswith("Z12.5 is a diagnosis for male patients only")
    assert "recorded as female" in issue.message


def test_a_manifestation_code_listed_first_fails_and_after_passes() -> None:
    first = make_claim(diagnosis_codes=["G63", "E11.9"])
    after = make_claim(diagnosis_codes=["E11.9", "G63"])
    assert _mce(first) == {("mce.manifestation", "diagnosis_codes[0]")}
    assert _mce(after) == set()
    assert "list the underlying condition first" in report(first, today=TODAY, codes=CODES).errors[0].message


def test_mce_findings_carry_no_claim_values() -> None:
    claim = make_claim(
        diagnosis_codes=["G63", "Z12.5", "P07.30"],
        patient={"date_of_birth": date(1980, 4, 2), "sex": "F"},
        lines=[line_body(service_date=DAY, diagnosis_pointers=[1, 2, 3])],
    )
    issues = [i for i in report(claim, today=TODAY, codes=CODES).issues if i.rule_id in MCE_RULES]
    assert {i.rule_id for i in issues} == MCE_RULES
    forbidden = {*claim.diagnosis_codes, claim.patient.date_of_birth.isoformat(), DAY.isoformat(), "F", "M"}
    for issue in issues:
        assert not set(issue.params.values()) & forbidden, issue
        assert describe(issue.finding(), claim) == issue


def test_without_edit_tables_no_mce_edit_runs() -> None:
    claim = _claim("P07.30", born=date(1980, 4, 2))
    assert {f for f in findings(claim, today=TODAY, codes=CodeSets()) if f[0] in MCE_RULES} == set()
