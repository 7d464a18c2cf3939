"""Hypothesis strategies: valid claim bodies, varied in every field the rules look at.

A generated body passes every rule with no issue at all (warnings included) against
`CODE_SETS` and against no code sets; property tests mutate one field of it at a time.
"""

from __future__ import annotations

import functools
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from hypothesis import strategies as st

from domain.codes import CodeEntry, CodeSets, CodeSystem, CodeTable
from domain.edit_tables import (
    EditTables,
    MceEdit,
    MceEditKind,
    ModifierIndicator,
    MueAdjudication,
    MueEdit,
    PtpEdit,
)
from tests.domain.factories import valid_npi

TODAY = date.today()

#: Billable ICD-10-CM codes (leaves in the packaged set). No external-cause code (V-Y may not
#: come first) and no pregnancy code (O, warned on a male patient), so any order and sex pass.
DIAGNOSES = (
    "E11.9", "I10", "E78.5", "R73.09", "N18.30", "D64.9", "Z00.00", "Z13.1", "R53.83", "E03.9",
    "K76.0", "E55.9", "J06.9", "M54.50", "R10.9", "Z79.4", "E66.9", "F41.1", "S52.521A", "T36.0X1A",
)  # fmt: skip
PROCEDURES = ("80053", "85025", "80061", "83036", "84443", "87086", "81001", "36415", "G0103", "0001U", "3044F")
MODIFIERS = ("26", "TC", "59", "90", "91", "QW", "GA", "XU")
PLACES = ("81", "11", "22", "12")
PAYERS = ("SANDBOX", "60054", "87726", "BCBSX")

#: Codes the mutations use: in the tables below with the named status, never generated as valid.
UNLISTED_PROCEDURE = "99999"
#: A HCPCS code the tables do not list; HCPCS is not loaded in full in CODE_SETS (CPT is), so it only warns.
UNLISTED_HCPCS = "G9999"
UNBILLABLE_PROCEDURE = "80050"
RETIRED_PROCEDURE = "80048"
RETIRED_DIAGNOSIS = "N18.9"  # a leaf in the package, retired by the override table
#: Codes the scrubber mutations use (CMS edit tables below), never generated as valid: a line of BUNDLED_PROCEDURE
#: is bundled into any generated procedure on its day (indicator 0); the MUE codes allow 1 unit a line / a day;
#: the MCE codes are on the newborn, male and manifestation lists.
BUNDLED_PROCEDURE = "85027"
LINE_MUE_PROCEDURE = "87077"
DAY_MUE_PROCEDURE = "82947"
NEWBORN_DIAGNOSIS = "P07.30"
MALE_DIAGNOSIS = "Z12.5"
MANIFESTATION_DIAGNOSIS = "G63"

CODE_SETS = CodeSets(
    icd10_overrides=CodeTable([CodeEntry(code=RETIRED_DIAGNOSIS, termination_date=date(2000, 12, 31))]),
    procedures=CodeTable(
        [
            *(CodeEntry(code=code, effective_date=date(2000, 1, 1)) for code in PROCEDURES),
            CodeEntry(code=UNBILLABLE_PROCEDURE, billable=False),
            CodeEntry(code=RETIRED_PROCEDURE, termination_date=date(2000, 12, 31)),
            *(CodeEntry(code=code) for code in (BUNDLED_PROCEDURE, LINE_MUE_PROCEDURE, DAY_MUE_PROCEDURE)),
        ]
    ),
    edits=EditTables(
        ptp=[
            PtpEdit(
                column1=code,
                column2=BUNDLED_PROCEDURE,
                effective_date=date(2000, 1, 1),
                modifier_indicator=ModifierIndicator.NEVER,
            )
            for code in PROCEDURES
        ],
        mue=[
            MueEdit(code=LINE_MUE_PROCEDURE, units=1, mai=MueAdjudication.LINE, effective_date=date(2000, 1, 1)),
            MueEdit(code=DAY_MUE_PROCEDURE, units=1, mai=MueAdjudication.DAY_CLINICAL, effective_date=date(2000, 1, 1)),
        ],
        mce=[
            MceEdit(code=code, kind=kind, effective_date=date(2000, 1, 1))
            for code, kind in (
                (NEWBORN_DIAGNOSIS, MceEditKind.NEWBORN),
                (MALE_DIAGNOSIS, MceEditKind.MALE),
                (MANIFESTATION_DIAGNOSIS, MceEditKind.MANIFESTATION),
            )
        ],
    ),
    loaded_in_full=frozenset({CodeSystem.CPT}),
)

_ALNUM = "ABCDEFGHJKLMNPQRSTUVWXYZ0123456789"

# Strategies built once: building them inside a composite on every draw dominates the cost.
_PROCEDURE = st.sampled_from(PROCEDURES)
_PLACE = st.sampled_from(PLACES)
_PAYER = st.sampled_from(PAYERS)
_MODIFIERS = st.lists(st.sampled_from(MODIFIERS), unique=True, max_size=4)
_CENTS = st.integers(1, 999_999)
_UNITS = st.integers(1, 20)
_DAYS_AGO = st.integers(0, 300)
_MASK = st.integers(0, 2**12 - 1)
_SMALL = st.integers(0, 9999)
_BOOL = st.booleans()
_PCN = st.text(_ALNUM, min_size=1, max_size=17)
_TAX_ID = st.tuples(st.integers(0, 999_999_999), st.booleans()).map(
    lambda t: f"{t[0]:09d}" if t[1] else f"{t[0]:09d}"[:2] + "-" + f"{t[0]:09d}"[2:]
)


def npis() -> st.SearchStrategy[str]:
    return st.integers(100_000_000, 299_999_999).map(lambda n: valid_npi(str(n)))


def member_ids() -> st.SearchStrategy[str]:
    return st.tuples(st.sampled_from("ABMWZ"), st.integers(100_000, 99_999_999_999)).map(lambda t: f"{t[0]}{t[1]}")


_NPI = npis()
_MEMBER = member_ids()


@functools.cache
def _diagnosis_lists(low: int, high: int) -> st.SearchStrategy[list[str]]:
    return st.lists(st.sampled_from(DIAGNOSES), unique=True, min_size=low, max_size=high)


@functools.cache
def _ints(low: int, high: int) -> st.SearchStrategy[int]:
    return st.integers(low, high)


@st.composite
def lines_for(draw: st.DrawFn, n_diagnoses: int, min_lines: int = 1) -> list[dict[str, Any]]:
    """1-8 lines whose pointers together name every diagnosis, at most 4 distinct per line."""
    n_lines = draw(_ints(max(min_lines, -(-n_diagnoses // 4)), 8))
    pointers: list[list[int]] = [[] for _ in range(n_lines)]
    for d in range(n_diagnoses):  # round robin: every diagnosis is pointed at
        pointers[d % n_lines].append(d + 1)
    lines = []
    days: dict[str, set[int]] = {}  # the days each procedure is already on: a valid claim repeats no test on a day
    for i, own in enumerate(pointers):
        mask = draw(_MASK)  # which other diagnoses this line also points at
        extra = [p for p in range(1, n_diagnoses + 1) if p not in own and mask >> (p - 1) & 1]
        chosen = (own + extra)[:4] or [mask % n_diagnoses + 1]
        if mask & 1 << 11:
            chosen.reverse()
        code = draw(_PROCEDURE)
        days_ago = draw(_DAYS_AGO)
        while days_ago in days.setdefault(code, set()):
            days_ago += 1
        days[code].add(days_ago)
        lines.append(
            {
                "procedure_code": code,
                "modifiers": draw(_MODIFIERS),
                "charge": f"{Decimal(draw(_CENTS)) / 100:.2f}",
                "units": draw(_UNITS),
                "service_date": (TODAY - timedelta(days=days_ago)).isoformat(),
                "place_of_service": draw(_PLACE),
                "diagnosis_pointers": chosen,
                "line_control_number": f"L{i + 1}-{draw(_SMALL)}",
            }
        )
    return lines


@st.composite
def claim_bodies(
    draw: st.DrawFn,
    *,
    diagnoses: tuple[int, int] = (1, 12),
    age_days: tuple[int, int] = (0, 120 * 365),
    sexes: tuple[str, ...] = ("F", "M", "U"),
    frequencies: tuple[str, ...] = ("1", "1", "7", "8"),
    min_lines: int = 1,
) -> dict[str, Any]:
    """A valid claim body (JSON shape), varied in every field a rule reads.

    The keywords narrow it: how many diagnoses, the patient's age in days at the first
    service, sex, frequency codes, the fewest lines.
    """
    codes = draw(_diagnosis_lists(*diagnoses))
    lines = draw(lines_for(len(codes), min_lines))
    earliest = min(date.fromisoformat(line["service_date"]) for line in lines)
    born = earliest - timedelta(days=draw(_ints(*age_days)))
    member = draw(_MEMBER)
    frequency = draw(st.sampled_from(frequencies))
    body: dict[str, Any] = {
        "patient_control_number": draw(_PCN),
        "patient": {
            "first_name": "Test",
            "last_name": "Patient",
            "date_of_birth": born.isoformat(),
            "sex": draw(st.sampled_from(sexes)),
            "member_id": member,
        },
        "insurance": {"payer_id": draw(_PAYER), "member_id": member},
        "billing_provider": {"npi": draw(_NPI), "name": "Sandbox Lab", "tax_id": draw(_TAX_ID)},
        "diagnosis_codes": codes,
        "lines": lines,
        "total_charge": str(sum((Decimal(line["charge"]) for line in lines), Decimal("0.00"))),
        "frequency_code": frequency,
        "original_payer_claim_id": None if frequency == "1" else f"PAYER-{draw(_SMALL)}",
    }
    for role in ("rendering_provider", "referring_provider"):
        if draw(_BOOL):
            body[role] = {"npi": draw(_NPI)}
    return body
