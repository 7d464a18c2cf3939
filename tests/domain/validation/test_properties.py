"""Properties: a generated valid claim passes; one mutated field is caught by its own rule, and only by it."""

from __future__ import annotations

import copy
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from domain.claim import Claim
from domain.codes import CodeSets, load_icd10
from domain.validation import RULES, describe, validate_claim
from tests.domain.strategies import (
    BUNDLED_PROCEDURE,
    CODE_SETS,
    DAY_MUE_PROCEDURE,
    DIAGNOSES,
    LINE_MUE_PROCEDURE,
    MALE_DIAGNOSIS,
    MANIFESTATION_DIAGNOSIS,
    MODIFIERS,
    NEWBORN_DIAGNOSIS,
    RETIRED_DIAGNOSIS,
    RETIRED_PROCEDURE,
    TODAY,
    UNBILLABLE_PROCEDURE,
    UNLISTED_HCPCS,
    UNLISTED_PROCEDURE,
    claim_bodies,
    member_ids,
)

Body = dict[str, Any]
ANY_BODY = claim_bodies()
RULES_BY_ID = {rule.id: rule for rule in RULES}
PROPERTY_SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def setup_module() -> None:
    load_icd10()  # pay the package's one-off load outside any example


def _validate(body: Body, codes: CodeSets | None) -> set[tuple[str, str]]:
    report = validate_claim(Claim.model_validate(body), today=TODAY, codes=codes)
    return {(issue.rule_id, issue.path) for issue in report.issues}


@given(body=claim_bodies())
@PROPERTY_SETTINGS
@pytest.mark.parametrize("codes", [None, CODE_SETS], ids=["package-only", "with-tables"])
def test_a_generated_valid_claim_has_no_issue(codes: CodeSets | None, body: Body) -> None:
    assert _validate(body, codes) == set()


# --- one mutation per rule: it changes only the field that rule owns ---------------------------


@dataclass(frozen=True)
class Mutation:
    """Change one field of a valid body so that exactly `rule_id` must fail.

    `applies` says whether a body has what the mutation needs (a line with room for one
    more pointer, say); `bodies` narrows the generator when that is rare.
    """

    rule_id: str
    applies: Callable[[Body], bool]
    apply: Callable[[Body, st.DataObject], None]
    bodies: st.SearchStrategy[Body] = ANY_BODY


def _always(_: Body) -> bool:
    return True


def _pick_line(body: Body, data: st.DataObject, when: Callable[[Body], bool] = _always) -> Body:
    candidates = [line for line in body["lines"] if when(line)]
    line: Body = data.draw(st.sampled_from(candidates))
    return line


def _pick_diagnosis(body: Body, data: st.DataObject, start: int = 0) -> int:
    index: int = data.draw(st.integers(start, len(body["diagnosis_codes"]) - 1))
    return index


def _set_diagnosis(values: list[str], start: int = 0) -> Callable[[Body, st.DataObject], None]:
    def apply(body: Body, data: st.DataObject) -> None:
        body["diagnosis_codes"][_pick_diagnosis(body, data, start)] = data.draw(st.sampled_from(values))

    return apply


def _repeat_diagnosis(body: Body, data: st.DataObject) -> None:
    codes = body["diagnosis_codes"]
    later = _pick_diagnosis(body, data, start=1)
    codes[later] = codes[data.draw(st.integers(0, later - 1))]


def _add_diagnoses(count: int) -> Callable[[Body, st.DataObject], None]:
    def apply(body: Body, data: st.DataObject) -> None:
        unused = [code for code in DIAGNOSES if code not in body["diagnosis_codes"]]
        body["diagnosis_codes"] += data.draw(
            st.lists(st.sampled_from(unused), unique=True, min_size=count, max_size=count)
        )

    return apply


def _line_field(field: str, values: st.SearchStrategy[Any]) -> Callable[[Body, st.DataObject], None]:
    def apply(body: Body, data: st.DataObject) -> None:
        _pick_line(body, data)[field] = data.draw(values)

    return apply


def _service_date(lo_days_ago: int, hi_days_ago: int) -> Callable[[Body, st.DataObject], None]:
    def apply(body: Body, data: st.DataObject) -> None:
        _pick_line(body, data)["service_date"] = (
            TODAY - timedelta(days=data.draw(st.integers(lo_days_ago, hi_days_ago)))
        ).isoformat()

    return apply


def _born(body: Body) -> date:
    return date.fromisoformat(body["patient"]["date_of_birth"])


def _before_birth(body: Body, data: st.DataObject) -> None:
    days = data.draw(st.integers(1, 364 - (TODAY - _born(body)).days))
    _pick_line(body, data)["service_date"] = (_born(body) - timedelta(days=days)).isoformat()


def _stale(body: Body, data: st.DataObject) -> None:
    oldest = min((TODAY - _born(body)).days, 3000)
    _pick_line(body, data)["service_date"] = (TODAY - timedelta(days=data.draw(st.integers(366, oldest)))).isoformat()


def _too_old(body: Body, data: st.DataObject) -> None:
    latest = max(date.fromisoformat(line["service_date"]) for line in body["lines"])
    born = latest.replace(year=latest.year - 150, day=min(latest.day, 28)) - timedelta(
        days=data.draw(st.integers(0, 900))
    )
    body["patient"]["date_of_birth"] = born.isoformat()


def _zero_charge(body: Body, data: st.DataObject) -> None:
    # total_charge is derived from the line charges: it follows them, as a submitter's would.
    _pick_line(body, data)["charge"] = "0.00"
    body["total_charge"] = str(sum((Decimal(line["charge"]) for line in body["lines"]), Decimal("0.00")))


def _total_off(body: Body, data: st.DataObject) -> None:
    body["total_charge"] = str(
        Decimal(body["total_charge"]) + data.draw(st.sampled_from([Decimal("0.01"), Decimal("1.00")]))
    )


def _has_room(line: Body) -> bool:
    return len(line["diagnosis_pointers"]) < 4


def _bad_pointer(body: Body, data: st.DataObject) -> None:
    n = len(body["diagnosis_codes"])
    line = _pick_line(body, data, _has_room)
    line["diagnosis_pointers"].append(data.draw(st.sampled_from([0, n + 1, 13])))


def _repeat_pointer(body: Body, data: st.DataObject) -> None:
    line = _pick_line(body, data, _has_room)
    line["diagnosis_pointers"].append(data.draw(st.sampled_from(line["diagnosis_pointers"])))


def _five_pointers(body: Body, data: st.DataObject) -> None:
    pointers = data.draw(st.permutations(range(1, len(body["diagnosis_codes"]) + 1)))
    line = _pick_line(body, data)
    line["diagnosis_pointers"] = list(dict.fromkeys([*line["diagnosis_pointers"], *pointers]))[:5]


def _repeat_line_number(body: Body, data: st.DataObject) -> None:
    lines = body["lines"]
    later = data.draw(st.integers(1, len(lines) - 1))
    lines[later]["line_control_number"] = lines[data.draw(st.integers(0, later - 1))]["line_control_number"]


def _bad_modifier(body: Body, data: st.DataObject) -> None:
    line = _pick_line(body, data, lambda line: len(line["modifiers"]) < 4)
    line["modifiers"].append(data.draw(st.sampled_from(["1", "ABC", "q1", "-5"])))


def _repeat_modifier(body: Body, data: st.DataObject) -> None:
    line = _pick_line(body, data, lambda line: 0 < len(line["modifiers"]) < 4)
    line["modifiers"].append(data.draw(st.sampled_from(line["modifiers"])))


def _providers(body: Body) -> list[str]:
    return [role for role in ("billing_provider", "rendering_provider", "referring_provider") if role in body]


def _provider_npi(change: Callable[[str, st.DataObject], str]) -> Callable[[Body, st.DataObject], None]:
    def apply(body: Body, data: st.DataObject) -> None:
        provider = body[data.draw(st.sampled_from(_providers(body)))]
        provider["npi"] = change(provider["npi"], data)

    return apply


def _other_check_digit(npi: str, data: st.DataObject) -> str:
    return npi[:9] + str((int(npi[9]) + data.draw(st.integers(1, 9))) % 10)


def _set(path: str, values: st.SearchStrategy[Any]) -> Callable[[Body, st.DataObject], None]:
    def apply(body: Body, data: st.DataObject) -> None:
        *parents, leaf = path.split(".")
        node = body
        for part in parents:
            node = node[part]
        node[leaf] = data.draw(values)

    return apply


def _add_same_day_line(code: str | None) -> Callable[[Body, st.DataObject], None]:
    """Append a copy of a line on its day, without modifiers, as `code` (None: the same procedure, a repeat)."""

    def apply(body: Body, data: st.DataObject) -> None:
        line = copy.deepcopy(_pick_line(body, data))
        line.update(modifiers=[], line_control_number="L-ADDED", procedure_code=code or line["procedure_code"])
        body["lines"].append(line)
        body["total_charge"] = str(sum((Decimal(line["charge"]) for line in body["lines"]), Decimal("0.00")))

    return apply


def _units_of(code: str) -> Callable[[Body, st.DataObject], None]:
    def apply(body: Body, data: st.DataObject) -> None:
        _pick_line(body, data).update(procedure_code=code, units=data.draw(st.integers(2, 20)))

    return apply


#: The scrubber edits leave a void alone (it only withdraws its original).
SCRUBBED = claim_bodies(frequencies=("1", "7"))

MUTATIONS = [
    Mutation("icd10.count", _always, _add_diagnoses(1), claim_bodies(diagnoses=(12, 12))),
    Mutation("icd10.duplicate", _always, _repeat_diagnosis, claim_bodies(diagnoses=(2, 12))),
    Mutation("icd10.exists", _always, _set_diagnosis(["E11.99", "ZZZ", "U99.9", "123", "E11.9X"])),
    Mutation("icd10.billable", _always, _set_diagnosis(["E11", "I25", "J45.90", "N18.3", "S52.521"])),
    Mutation("icd10.active", _always, _set_diagnosis([RETIRED_DIAGNOSIS])),
    Mutation("icd10.principal", _always, lambda b, d: b["diagnosis_codes"].__setitem__(0, d.draw(st.sampled_from(["W19.XXXA", "V43.52XA", "Y92.009"])))),
    Mutation("icd10.unreferenced", _always, _add_diagnoses(1), claim_bodies(diagnoses=(1, 11))),
    Mutation("icd10.sex", _always, _set_diagnosis(["O26.891", "O09.90"]), claim_bodies(sexes=("M",))),
    Mutation("procedure.format", _always, _line_field("procedure_code", st.sampled_from(["8005", "800531", "ABCDE", "G-103"]))),
    Mutation("procedure.known", _always, _line_field("procedure_code", st.just(UNLISTED_PROCEDURE))),
    Mutation("procedure.unlisted", _always, _line_field("procedure_code", st.just(UNLISTED_HCPCS))),
    Mutation("procedure.billable", _always, _line_field("procedure_code", st.just(UNBILLABLE_PROCEDURE))),
    Mutation("procedure.active", _always, _line_field("procedure_code", st.just(RETIRED_PROCEDURE))),
    Mutation("modifier.count", _always, _line_field("modifiers", st.lists(st.sampled_from(MODIFIERS), unique=True, min_size=5, max_size=8))),
    Mutation("modifier.format", lambda b: any(len(line["modifiers"]) < 4 for line in b["lines"]), _bad_modifier),
    Mutation("modifier.duplicate", lambda b: any(0 < len(line["modifiers"]) < 4 for line in b["lines"]), _repeat_modifier),
    Mutation("npi.format", _always, _provider_npi(lambda npi, d: d.draw(st.sampled_from([npi[:9], npi + "0", npi[:9] + "X"])))),
    Mutation("npi.check_digit", _always, _provider_npi(_other_check_digit)),
    Mutation("tax_id.format", _always, _set("billing_provider.tax_id", st.sampled_from(["12345678", "123-45-6789", "A23456789"]))),
    Mutation("service_date.future", _always, _service_date(-30, -1)),
    Mutation("service_date.before_birth", lambda b: (TODAY - _born(b)).days < 363, _before_birth, claim_bodies(age_days=(0, 30))),
    Mutation("service_date.timely_filing", _always, _stale, claim_bodies(age_days=(400, 120 * 365))),
    Mutation("date_of_birth.future", _always, _set("patient.date_of_birth", st.dates(TODAY + timedelta(days=1), TODAY + timedelta(days=900)).map(date.isoformat))),
    Mutation("date_of_birth.age", _always, _too_old),
    Mutation("charge.positive", _always, _zero_charge),
    Mutation("units.positive", _always, _line_field("units", st.just(0))),
    Mutation("total_charge.sum", _always, _total_off),
    Mutation("pointer.count", _always, _five_pointers, claim_bodies(diagnoses=(5, 12))),
    Mutation("pointer.exists", lambda b: any(_has_room(line) for line in b["lines"]), _bad_pointer),
    Mutation("pointer.duplicate", lambda b: any(_has_room(line) for line in b["lines"]), _repeat_pointer),
    Mutation("line_control_number.unique", _always, _repeat_line_number, claim_bodies(min_lines=2)),
    Mutation("place_of_service.format", _always, _line_field("place_of_service", st.sampled_from(["00", "8A", "XX"]))),
    Mutation("patient_control_number.length", _always, _set("patient_control_number", st.text("ABC123", min_size=18, max_size=38))),
    Mutation("original_claim_id.required", _always, _set("original_payer_claim_id", st.none()), claim_bodies(frequencies=("7", "8"))),
    Mutation("original_claim_id.unexpected", _always, _set("original_payer_claim_id", st.just("PAYER-1")), claim_bodies(frequencies=("1",))),
    Mutation("payer_id.present", _always, _set("insurance.payer_id", st.sampled_from(["N/A", "UNKNOWN", "00000", "none"]))),
    Mutation("member_id.present", _always, _set("insurance.member_id", st.sampled_from(["N/A", "TBD", "000000"]))),
    Mutation("member_id.mismatch", _always, _set("patient.member_id", member_ids().map(lambda m: m + "Z"))),
    Mutation("mce.age", _always, _set_diagnosis([NEWBORN_DIAGNOSIS]), claim_bodies(age_days=(400, 100 * 365), frequencies=("1", "7"))),
    Mutation("mce.sex", _always, _set_diagnosis([MALE_DIAGNOSIS]), claim_bodies(sexes=("F",), frequencies=("1", "7"))),
    Mutation("mce.manifestation", _always, lambda b, d: b["diagnosis_codes"].__setitem__(0, MANIFESTATION_DIAGNOSIS), SCRUBBED),
    Mutation("ncci.ptp", _always, _add_same_day_line(BUNDLED_PROCEDURE), SCRUBBED),
    Mutation("mue.line", _always, _units_of(LINE_MUE_PROCEDURE), SCRUBBED),
    Mutation("mue.day", _always, _units_of(DAY_MUE_PROCEDURE), SCRUBBED),
    Mutation("repeat_test.modifier", _always, _add_same_day_line(None), SCRUBBED),
]  # fmt: skip


def test_every_rule_has_a_mutation_except_the_unparseable_one() -> None:
    # charge.cents guards claims built without parsing; parsing already refuses a third decimal.
    assert {m.rule_id for m in MUTATIONS} == set(RULES_BY_ID) - {"charge.cents"}


@pytest.mark.parametrize("mutation", MUTATIONS, ids=lambda m: m.rule_id)
@given(data=st.data())
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
def test_one_mutated_field_is_caught_by_its_rule_alone(mutation: Mutation, data: st.DataObject) -> None:
    body = data.draw(mutation.bodies.filter(mutation.applies), label="valid body")
    mutated = copy.deepcopy(body)
    mutation.apply(mutated, data)

    found = _validate(mutated, CODE_SETS)

    assert {rule_id for rule_id, _ in found} == {mutation.rule_id}
    rule = RULES_BY_ID[mutation.rule_id]
    assert all(rule.owns_path(path) for _, path in found)


#: What a finding's parameters may be: counts and indices, money, code-set dates, states and codes of ours.
PARAM_VALUE = re.compile(r"\d+|\d+\.\d{2}|\d{4}-\d{2}-\d{2}|[a-z_]+")


@pytest.mark.parametrize("mutation", MUTATIONS, ids=lambda m: m.rule_id)
@given(data=st.data())
@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
def test_a_stored_finding_renders_the_message_its_check_gave(mutation: Mutation, data: st.DataObject) -> None:
    body = data.draw(mutation.bodies.filter(mutation.applies), label="valid body")
    mutation.apply(body, data)
    claim = Claim.model_validate(body)

    issues = validate_claim(claim, today=TODAY, codes=CODE_SETS).issues

    assert issues
    for issue in issues:
        finding = issue.finding()
        assert "message" not in finding.model_dump()
        assert all(PARAM_VALUE.fullmatch(value) for value in finding.params.values()), finding
        assert describe(finding, claim) == issue
