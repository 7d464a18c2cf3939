"""The 837P generator: every interchange it writes passes pyx12's 005010X222A1 validator, carries the claim as the
implementation guide places it, and what it cannot write is named, field by field, instead of invented."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime
from typing import Any

import pytest
from pyx12 import params, x12n_document

from activities.x12.claim_837p import ClaimSource, SubmitterProfile, Subscriber, claim_837p
from activities.x12.envelope import ControlNumbers, Envelope
from activities.x12.writer import X12ValueError
from domain.claim import Claim
from sandbox.x12_reader import read, read_837p
from workers.sample_claims import sample_claim

AT = datetime(2026, 11, 23, 14, 5, tzinfo=UTC)
SUBMITTER = SubmitterProfile(
    name="Acme Lab",
    identifier="ACME01",
    contact_name="Billing office",
    contact_phone="(512) 555-0100",
    receiver_name="Sandbox clearinghouse",
    receiver_id="SANDBOXCH",
)
ENVELOPE = Envelope(sender_id="ACME01", receiver_id="SANDBOXCH")
PATIENT_ADDRESS = {"line1": "1 Main St", "line2": "Apt 2", "city": "Austin", "state": "TX", "postal_code": "78701"}
LAB_ADDRESS = {"line1": "2 Lab Way", "city": "Austin", "state": "TX", "postal_code": "78701-1234"}
DIAGNOSES = [
    "E11.9",
    "I10",
    "E78.5",
    "N18.30",
    "D64.9",
    "E03.9",
    "R53.83",
    "K21.9",
    "J45.909",
    "M54.50",
    "F41.1",
    "Z00.00",
]


def body(lines: int = 1, diagnoses: list[str] | None = None, **changes: Any) -> dict[str, Any]:
    """The README's claim with the addresses an 837P needs."""
    claim = sample_claim("M123456", lines=lines, diagnosis_codes=diagnoses or ["E11.9", "I10"])
    claim["patient"]["address"] = PATIENT_ADDRESS
    claim["billing_provider"]["address"] = LAB_ADDRESS
    return {**claim, **changes}


def write(claim_body: dict[str, Any], *, subscriber: Subscriber | None = None, number: int = 17, **kw: Any) -> str:
    source = ClaimSource(
        claim_id="c" * 32, claim=Claim.model_validate(claim_body), payer_name="Sandbox payer", subscriber=subscriber
    )
    return claim_837p(
        source,
        submitter=SUBMITTER,
        envelope=kw.get("envelope", ENVELOPE),
        control=ControlNumbers.from_sequence(number),
        created_at=AT,
    )


def pyx12_errors(interchange: str) -> list[str]:
    """What pyx12's 5010 validator (x12n_document) finds wrong; [] when it accepts the interchange."""
    found = io.StringIO()
    valid = x12n_document.x12n_document(params.params(), io.StringIO(interchange), None, None, None, found)
    report = json.loads(found.getvalue())
    errors = [
        f"{where}: {error['err_str']}"
        for interchange_ in report["interchanges"]
        for where, error in _errors(interchange_)
    ]
    assert valid == (not errors), (valid, errors)
    return errors


def _errors(node: dict[str, Any], where: str = "ISA") -> list[tuple[str, dict[str, Any]]]:
    found = [(where, error) for error in node.get("errors", [])]
    for key in ("groups", "transactions", "segments", "elements"):
        for child in node.get(key, []):
            found += _errors(child, child.get("seg_id") or child.get("ele_pos") or key)
    return found


def segments(interchange: str) -> list[list[str]]:
    return [segment.split("*") for segment in interchange.replace("\n", "").split("~") if segment]


def find(interchange: str, segment_id: str, *prefix: str) -> list[list[str]]:
    return [s for s in segments(interchange) if s[0] == segment_id and s[1 : 1 + len(prefix)] == list(prefix)]


@pytest.mark.parametrize("frequency", ["1", "7", "8"])
def test_every_frequency_passes_pyx12_and_replacements_and_voids_name_the_original(frequency: str) -> None:
    original = None if frequency == "1" else "PAYER-CLM-991"
    interchange = write(body(frequency_code=frequency, original_payer_claim_id=original))

    assert pyx12_errors(interchange) == []
    [clm] = find(interchange, "CLM")
    assert clm[5] == f"81:B:{frequency}"
    assert find(interchange, "REF", "F8") == ([] if original is None else [["REF", "F8", original]])


def test_fifty_lines_with_modifiers_pass_pyx12_with_one_lx_sv1_dtp_per_line() -> None:
    claim = body(lines=50)
    for number, line in enumerate(claim["lines"]):
        line["modifiers"] = ["90", "91"][: number % 3]
    interchange = write(claim)

    assert pyx12_errors(interchange) == []
    assert [s[1] for s in find(interchange, "LX")] == [str(n) for n in range(1, 51)]
    sv1 = find(interchange, "SV1")
    assert [s[1] for s in sv1[:3]] == ["HC:80053", "HC:80053:90", "HC:80053:90:91"]
    assert {tuple(s[2:5]) for s in sv1} == {("45", "UN", "1")}
    assert len(find(interchange, "DTP", "472")) == 50
    assert [s[2] for s in find(interchange, "REF", "6R")] == [f"L{n}" for n in range(1, 51)]
    [clm] = find(interchange, "CLM")
    assert clm[2] == "2250"


def test_twelve_diagnoses_pass_pyx12_principal_first_and_lines_point_at_them() -> None:
    interchange = write(body(diagnoses=DIAGNOSES))

    assert pyx12_errors(interchange) == []
    [hi] = find(interchange, "HI")
    assert hi[1:] == ["ABK:E119"] + [f"ABF:{code.replace('.', '')}" for code in DIAGNOSES[1:]]
    [sv1] = find(interchange, "SV1")
    assert sv1[7] == "1:2:3:4"


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("Smith, Jane", ["NM1", "82", "1", "Smith", "Jane", "", "", "", "XX", "1245319599"]),
        ("Acme Pathology Group", ["NM1", "82", "2", "Acme Pathology Group", "", "", "", "", "XX", "1245319599"]),
    ],
)
def test_a_rendering_provider_passes_pyx12_as_a_person_or_an_organisation(name: str, expected: list[str]) -> None:
    interchange = write(body(rendering_provider={"npi": "1245319599", "name": name}))

    assert pyx12_errors(interchange) == []
    assert find(interchange, "NM1", "82") == [expected]


def test_a_rendering_provider_who_is_the_billing_provider_is_not_repeated() -> None:
    interchange = write(body(rendering_provider={"npi": "1234567893"}))

    assert pyx12_errors(interchange) == []
    assert find(interchange, "NM1", "82") == []


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("Example, Pat", ["NM1", "DN", "1", "Example", "Pat", "", "", "", "XX", "1555123458"]),
        ("Dr. Pat Example", ["NM1", "DN", "1", "Dr. Pat Example", "", "", "", "", "XX", "1555123458"]),
    ],
)
def test_a_referring_provider_is_loop_2310a_a_person_before_the_rendering_provider_and_passes_pyx12(
    name: str, expected: list[str]
) -> None:
    interchange = write(
        body(
            referring_provider={"npi": "1555123458", "name": name},
            rendering_provider={"npi": "1245319599", "name": "Smith, Jane"},
        )
    )

    assert pyx12_errors(interchange) == []
    assert find(interchange, "NM1", "DN") == [expected]
    order = [f"NM1*{s[1]}" if s[0] == "NM1" else s[0] for s in segments(interchange)]
    # in the claim's 2300 loop after HI: 2310A, then 2310B, then the service lines (2400)
    assert order.index("HI") < order.index("NM1*DN") == order.index("NM1*82") - 1 < order.index("LX")


def test_a_referring_provider_who_is_also_the_billing_provider_is_still_written() -> None:
    interchange = write(body(referring_provider={"npi": "1234567893", "name": "Lab, Director"}))

    assert pyx12_errors(interchange) == []
    assert find(interchange, "NM1", "DN") == [["NM1", "DN", "1", "Lab", "Director", "", "", "", "XX", "1234567893"]]


def test_a_claim_without_a_referring_provider_has_no_2310a() -> None:
    assert find(write(body()), "NM1", "DN") == []


def test_a_referring_provider_without_a_name_is_named_as_what_the_837p_lacks() -> None:
    with pytest.raises(X12ValueError) as refused:
        write(body(referring_provider={"npi": "1555123458"}))

    [problem] = refused.value.problems
    assert problem.startswith("referring_provider.name: the 837P names the referring provider, a person (2310A")


def test_the_sandbox_reads_the_referring_providers_npi_from_the_837p() -> None:
    interchange = write(body(referring_provider={"npi": "1555123458", "name": "Example, Pat"}))

    assert read_837p(read(interchange)).submission["referring_provider_npi"] == "1555123458"
    assert "referring_provider_npi" not in read_837p(read(write(body()))).submission


def test_patient_who_is_the_subscriber_has_no_patient_loop() -> None:
    interchange = write(body())

    assert pyx12_errors(interchange) == []
    assert find(interchange, "HL") == [["HL", "1", "", "20", "1"], ["HL", "2", "1", "22", "0"]]
    assert find(interchange, "SBR") == [["SBR", "P", "18", "G100", "", "", "", "", "", "CI"]]
    assert find(interchange, "NM1", "IL") == [["NM1", "IL", "1", "Ruiz", "Ana", "", "", "", "MI", "M123456"]]
    assert find(interchange, "DMG") == [["DMG", "D8", "19800402", "F"]]
    assert find(interchange, "PAT") == [] and find(interchange, "NM1", "QC") == []


def test_patient_who_is_not_the_subscriber_has_the_patient_loop_under_the_subscriber() -> None:
    claim = body()
    claim["patient"] = {**claim["patient"], "relationship_to_subscriber": "19", "first_name": "Leo"}
    subscriber = Subscriber(first_name="Ana", last_name="Ruiz")
    interchange = write(claim, subscriber=subscriber)

    assert pyx12_errors(interchange) == []
    assert find(interchange, "HL") == [
        ["HL", "1", "", "20", "1"],
        ["HL", "2", "1", "22", "1"],
        ["HL", "3", "2", "23", "0"],
    ]
    assert find(interchange, "SBR") == [["SBR", "P", "", "G100", "", "", "", "", "", "CI"]]
    assert find(interchange, "NM1", "IL") == [["NM1", "IL", "1", "Ruiz", "Ana", "", "", "", "MI", "M123456"]]
    assert find(interchange, "PAT") == [["PAT", "19"]]
    assert find(interchange, "NM1", "QC") == [["NM1", "QC", "1", "Ruiz", "Leo"]]
    assert find(interchange, "N3")[-1] == ["N3", "1 Main St", "Apt 2"]
    assert find(interchange, "DMG") == [["DMG", "D8", "19800402", "F"]]  # the patient's; the subscriber's is unknown


def test_the_envelope_carries_the_control_numbers_and_counts_the_segments() -> None:
    envelope = Envelope(sender_id="ACME01", receiver_id="SANDBOXCH", usage="P", acknowledgment_requested=True)
    interchange = write(body(), number=123456, envelope=envelope)

    assert pyx12_errors(interchange) == []
    isa = interchange.split("~")[0]
    assert len(isa) == 105 and isa[103:] == "*:"  # fixed width; ISA16 the component separator
    parts = segments(interchange)
    assert parts[0][6] == "ACME01         " and parts[0][8] == "SANDBOXCH      "
    assert parts[0][13:16] == ["000123456", "1", "P"]
    assert parts[1][6] == "123456" and parts[-2] == ["GE", "1", "123456"] and parts[-1] == ["IEA", "1", "000123456"]
    assert parts[2] == ["ST", "837", "123456", "005010X222A1"]
    se = parts[-3]
    assert se == ["SE", str(len(parts) - 4), "123456"]
    assert find(interchange, "BHT") == [["BHT", "0019", "00", "c" * 32, "20261123", "1405", "CH"]]


def test_what_an_837p_needs_and_the_claim_lacks_is_named_field_by_field() -> None:
    claim = sample_claim("M123456", lines=1, diagnosis_codes=[*DIAGNOSES, "E66.9"])
    claim["patient"]["relationship_to_subscriber"] = "19"
    claim["lines"][0]["modifiers"] = ["90", "91", "59", "26", "QW"]
    claim["frequency_code"] = "7"

    with pytest.raises(X12ValueError) as refused:
        write(claim)

    fields = [problem.split(":")[0] for problem in refused.value.problems]
    assert fields == [
        "billing_provider.address",
        "patient.address",
        "subscriber",
        "original_payer_claim_id",
        "diagnosis_codes",
        "lines[0].modifiers",
    ]


def test_a_value_holding_a_delimiter_is_refused_without_quoting_it() -> None:
    claim = body()
    claim["patient"]["address"] = {**PATIENT_ADDRESS, "line1": "12 Elm St~Apt*3"}

    with pytest.raises(X12ValueError) as refused:
        write(claim)

    [problem] = refused.value.problems
    assert problem.startswith("subscriber address (N301) holds '*~'")
    assert "Elm" not in problem


def test_pyx12_refuses_an_837p_missing_a_required_segment() -> None:
    """The validator the tests rely on is not vacuous: without the patient's address (2010CA N3) it fails."""
    claim = body()
    claim["patient"] = {**claim["patient"], "relationship_to_subscriber": "19"}
    interchange = write(claim, subscriber=Subscriber(first_name="Ana", last_name="Ruiz"))
    lines = interchange.splitlines()
    patient_n3 = max(i for i, line in enumerate(lines) if line.startswith("N3*"))

    errors = pyx12_errors("\n".join(lines[:patient_n3] + lines[patient_n3 + 1 :]) + "\n")

    assert any('Mandatory segment "Patient Address" (N3) missing' in error for error in errors)
