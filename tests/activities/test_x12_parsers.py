"""The X12 answers claimflow reads (999, 277CA, 277, 271, 835): parsed from real 005010 documents into our models."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from activities.x12.models import (
    AcknowledgmentCode,
    BalanceRule,
    ClaimPaymentStatus,
    ClaimStatusKind,
    CoverageStatus,
)
from activities.x12.parse_271 import parse_271
from activities.x12.parse_277 import parse_277
from activities.x12.parse_835 import parse_835
from activities.x12.parse_999 import parse_999
from activities.x12.reader import Interchange, X12SyntaxError, read_interchange
from domain.adjudication import Category, GroupCode, ProcessorStatus
from domain.claim_status_codes import CATEGORY_CODES, UnknownCategoryCodeError, processor_category
from domain.routing import route
from domain.status import ClaimStatus

SAMPLES = Path(__file__).parent / "x12_samples"


def sample(name: str) -> str:
    return (SAMPLES / name).read_text()


def replace_segment(text: str, old: str, new: str) -> str:
    """`text` with one segment changed (and nothing else), so a test can break a valid sample in one place."""
    assert text.count(old) == 1
    return text.replace(old, new)


# ---------------------------------------------------------------- the samples are real X12


def pyx12_accepts(text: str) -> bool:
    """What pyx12's 005010 validator (x12n_document) says of a document."""
    import pyx12.params
    import pyx12.x12n_document

    return bool(pyx12.x12n_document.x12n_document(pyx12.params.params(), io.StringIO(text), None, io.StringIO()))


@pytest.mark.parametrize(
    "name", ["999_accepted.x12", "999_rejected.x12", "277ca.x12", "835.x12", "835_other_separators.x12"]
)
def test_samples_pass_the_pyx12_validator(name: str) -> None:
    """pyx12 has 5010 maps for the 999 (X231A1), the 277CA (X214) and the 835 (X221A1); each of those samples passes."""
    assert pyx12_accepts(sample(name))


def test_pyx12_validator_refuses_a_sample_broken_in_one_element() -> None:
    """The check above is not vacuous: an STC date where the 277CA's billing provider loop forbids one fails."""
    broken = replace_segment(sample("277ca.x12"), "STC*A1:19:PR**WQ*245.00~", "STC*A1:19:PR*20261203*WQ*245.00~")
    assert not pyx12_accepts(broken)


# ---------------------------------------------------------------- reader


def test_reader_takes_the_separators_from_the_isa_segment() -> None:
    standard = read_interchange(sample("835.x12"))
    other = read_interchange(sample("835_other_separators.x12"))
    assert (standard.delimiters.element, standard.delimiters.component, standard.delimiters.segment) == ("*", ":", "~")
    assert (other.delimiters.element, other.delimiters.component, other.delimiters.repetition) == ("|", ">", "{")
    assert other.delimiters.segment == "\n"

    def split(interchange: Interchange) -> list[tuple[str, list[tuple[str, ...]]]]:
        return [(s.tag, [s.components(i) for i in range(1, len(s.elements) + 1)]) for s in interchange.segments[1:]]

    assert split(other) == split(standard)


def test_835_with_other_separators_parses_to_the_same_remittance() -> None:
    assert parse_835(sample("835_other_separators.x12")) == parse_835(sample("835.x12"))


_SEPARATORS = st.permutations(list("*|^~:>{}!+")).map(lambda p: p[:4])
_ELEMENT_TEXT = st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 .-", min_size=0, max_size=12)


def _interchange(element: str, repetition: str, component: str, terminator: str, body: list[list[str]]) -> str:
    isa = element.join(
        [
            "ISA", "00", " " * 10, "00", " " * 10, "ZZ", "SENDER".ljust(15), "ZZ", "RECEIVER".ljust(15),
            "261203", "0700", repetition, "00501", "000000001", "0", "T", component,
        ]
    )  # fmt: skip
    segments = [["GS", "HP", "SENDER", "RECEIVER", "20261203", "0700", "1", "X", "005010X221A1"], ["ST", "835", "0001"]]
    segments += body
    segments += [["SE", str(len(body) + 2), "0001"], ["GE", "1", "1"], ["IEA", "1", "000000001"]]
    return isa + terminator + "".join(element.join(s) + terminator for s in segments)


@given(
    separators=_SEPARATORS,
    body=st.lists(
        st.tuples(st.sampled_from(["REF", "NM1", "CAS", "LQ", "N3"]), st.lists(_ELEMENT_TEXT, min_size=1, max_size=8)),
        max_size=12,
    ),
)
def test_reader_round_trips_any_segments_under_any_separators(
    separators: list[str], body: list[tuple[str, list[str]]]
) -> None:
    """Segments written with any four distinct separators read back as the same tags and elements."""
    element, repetition, component, terminator = separators
    text = _interchange(element, repetition, component, terminator, [[tag, *elements] for tag, elements in body])
    interchange = read_interchange(text)
    (transaction,) = interchange.transaction_sets("835")
    assert [(s.tag, list(s.elements)) for s in transaction.segments[1:-1]] == [
        (tag, elements) for tag, elements in body
    ]
    assert interchange.delimiters.component == component


PHI = ("RUIZ", "ANA", "M123456", "LAB-000130", "LAB-000123", "19800402")


@pytest.mark.parametrize(
    ("name", "old", "new", "expected"),
    [
        ("835.x12", "ISA*00*", "XSA*00*", "segment 1: an X12 interchange starts with ISA"),
        ("835.x12", "*261205*1200*^*00501*", "*261205*1200*00501*", "segment 1 (ISA)"),
        ("835.x12", "SE*43*0001~", "SE*44*0001~", "segment 45 (SE): SE01 counts 44, the transaction set has 43"),
        ("835.x12", "IEA*1*000000501~", "IEA*1*000000599~", "segment 47 (IEA): IEA02 does not match"),
        (
            "835.x12",
            "CLP*LAB-000130*1*45.00*36.00**12*PAYERCLM0010*81*1~",
            "CLP*LAB-000130*1*45,00*36.00**12*PAYERCLM0010*81*1~",
            "segment 14 (CLP): element 3 is not a number",
        ),
        ("835.x12", "CAS*CO*45*9.00~", "CAS*XX*45*9.00~", "segment 18 (CAS): not a valid group"),
        ("835.x12", "CAS*CO*45*9.00~", "CAS*CO*45*9.004~", "segment 18 (CAS): element 3 has fractions of a cent"),
        (
            "835.x12",
            "CLP*LAB-000130*1*45.00*36.00**12*PAYERCLM0010*81*1~",
            "CLP*LAB-000130*9*45.00*36.00**12*PAYERCLM0010*81*1~",
            "segment 14 (CLP): not a valid status",
        ),
        (
            "271_active.x12",
            "DMG*D8*19800402*F~",
            "DMG*D8*19801302*F~",
            "segment 15 (DMG): element 2 is not a CCYYMMDD date",
        ),
        (
            "277ca.x12",
            "STC*A2:20:PR*20261203*WQ*145.00~",
            "STC*:20:PR*20261203*WQ*145.00~",
            "segment 25 (STC): element 1 has no status category code",
        ),
    ],
)
def test_malformed_input_names_the_segment_position_never_the_content(
    name: str, old: str, new: str, expected: str
) -> None:
    parse = {"835": parse_835, "271": parse_271, "277": parse_277}[name[:3]]
    with pytest.raises(X12SyntaxError) as raised:
        parse(replace_segment(sample(name), old, new))
    assert expected in str(raised.value)
    assert not any(value in str(raised.value) for value in PHI)
    # no chained exception (a pydantic error, a Decimal error) carries the content along
    assert raised.value.__cause__ is None
    assert raised.value.__context__ is None or raised.value.__suppress_context__


def test_text_that_is_not_x12_is_refused() -> None:
    with pytest.raises(X12SyntaxError, match="starts with ISA"):
        parse_999('{"status": "accepted"}')


def test_an_interchange_without_the_expected_transaction_set_is_refused() -> None:
    with pytest.raises(X12SyntaxError, match="holds no 835 transaction set"):
        parse_835(sample("999_accepted.x12"))


# ---------------------------------------------------------------- 999


def test_999_accepted() -> None:
    (ack,) = parse_999(sample("999_accepted.x12"))
    assert (ack.functional_id_code, ack.group_control_number, ack.group_version) == ("HC", "17", "005010X222A1")
    assert ack.group_status is AcknowledgmentCode.ACCEPTED and ack.group_status.accepted
    assert (ack.sets_included, ack.sets_received, ack.sets_accepted) == (1, 1, 1)
    (transaction,) = ack.transaction_sets
    assert (transaction.set_code, transaction.control_number, transaction.status) == (
        "837",
        "0001",
        AcknowledgmentCode.ACCEPTED,
    )
    assert transaction.segment_errors == []


def test_999_rejected_transaction_set_carries_its_segment_and_element_errors() -> None:
    (ack,) = parse_999(sample("999_rejected.x12"))
    assert ack.group_status is AcknowledgmentCode.PARTIALLY_ACCEPTED
    assert (ack.sets_included, ack.sets_received, ack.sets_accepted) == (2, 2, 1)
    rejected, accepted = ack.transaction_sets
    assert rejected.status is AcknowledgmentCode.REJECTED and not rejected.status.accepted
    assert rejected.syntax_error_codes == ["5"]
    name, line = rejected.segment_errors
    assert (name.segment_id, name.position, name.loop_id, name.error_code) == ("NM1", 22, "2010", "8")
    (element,) = name.element_errors
    assert (element.position, element.element_reference, element.error_code, element.bad_value) == (
        9,
        "67",
        "7",
        "BADID",
    )
    assert "BADID" not in repr(element)
    (component,) = line.element_errors
    assert (component.position, component.component_position, component.element_reference) == (1, 2, "235")
    assert (accepted.control_number, accepted.status) == ("0002", AcknowledgmentCode.ACCEPTED)


def test_999_fully_rejected_group() -> None:
    text = replace_segment(sample("999_accepted.x12"), "IK5*A~", "IK5*R*5~")
    text = replace_segment(text, "AK9*A*1*1*1~", "AK9*R*1*1*0~")
    (ack,) = parse_999(text)
    assert ack.group_status is AcknowledgmentCode.REJECTED and not ack.group_status.accepted
    assert ack.transaction_sets[0].status is AcknowledgmentCode.REJECTED


# ---------------------------------------------------------------- 277CA and 277


def test_277ca_accepted_and_rejected_claims() -> None:
    (report,) = parse_277(sample("277ca.x12"))
    assert report.kind is ClaimStatusKind.ACKNOWLEDGMENT
    assert (report.payer_id, report.reference, report.created) == ("SANDBOX", "BATCH0001", dt.date(2026, 12, 3))
    accepted, rejected = report.claims
    assert accepted.patient_control_number == "LAB-000123"
    assert (accepted.payer_claim_id, accepted.clearinghouse_trace_number) == ("PAYERCLM0001", "CH-TRACE-0001")
    assert (accepted.status.category_code, accepted.status.status_code, accepted.status.entity_code) == (
        "A2",
        "20",
        "PR",
    )
    assert accepted.status.processor_category is Category.ACCEPTED
    assert accepted.status.total_charge == Decimal("145.00")
    assert accepted.service_date == dt.date(2026, 11, 20)

    assert rejected.patient_control_number == "LAB-000124" and rejected.payer_claim_id == ""
    assert (rejected.status.category_code, rejected.status.status_code, rejected.status.action_code) == (
        "A7",
        "562",
        "U",
    )
    assert rejected.status.processor_category is Category.REJECTED_INVALID_INFO
    (line,) = rejected.lines
    assert (line.procedure_code, line.modifiers, line.billed, line.units) == (
        "85025",
        ["91"],
        Decimal("100.00"),
        Decimal(1),
    )
    assert (line.line_control_number, line.service_date) == ("L1", dt.date(2026, 11, 21))
    assert (line.statuses[0].category_code, line.statuses[0].status_code, line.statuses[0].entity_code) == (
        "A7",
        "145",
        "IL",
    )


def test_277_status_response_with_several_statuses_per_claim() -> None:
    (report,) = parse_277(sample("277_status.x12"))
    assert report.kind is ClaimStatusKind.STATUS_RESPONSE
    paid, pended = report.claims
    assert paid.patient_control_number == "LAB-000123" and paid.payer_claim_id == "PAYERCLM0001"
    first, second = paid.statuses
    assert (first.category_code, first.status_code) == ("F1", "65")
    assert (first.total_charge, first.payment_amount, first.payment_method) == (
        Decimal("145.00"),
        Decimal("116.00"),
        "ACH",
    )
    assert (first.adjudication_date, first.check_date, first.check_number) == (
        dt.date(2026, 12, 1),
        dt.date(2026, 12, 5),
        "EFT0000012345",
    )
    assert (second.category_code, second.processor_category) == ("F3", Category.FINALIZED_REVISED)
    assert [(line.procedure_code, line.paid, line.line_control_number) for line in paid.lines] == [
        ("80053", Decimal("36.00"), "L1"),
        ("85025", Decimal("80.00"), "L2"),
    ]
    assert [(s.category_code, s.status_code, s.entity_code) for s in pended.statuses] == [
        ("P3", "21", "1P"),
        ("P3", "294", "1P"),
    ]
    assert pended.status.processor_category is Category.PENDING_INFO_FROM_PROVIDER
    assert "LAB-0001" not in repr(report)


def test_277_keeps_a_category_code_outside_code_list_507_and_its_processor_status_refuses_it() -> None:
    text = replace_segment(sample("277ca.x12"), "STC*A2:20:PR*20261203*WQ*145.00~", "STC*Z9:20:PR*20261203*WQ*145.00~")
    claim = parse_277(text)[0].claims[0]
    assert claim.status.category_code == "Z9"
    with pytest.raises(UnknownCategoryCodeError):
        _ = claim.status.processor_category


def test_277_of_another_implementation_guide_is_refused() -> None:
    text = sample("277ca.x12").replace("005010X214", "005010X228")
    with pytest.raises(X12SyntaxError, match="segment 3 \\(ST\\): a 277 of implementation 005010X228"):
        parse_277(text)


# ---------------------------------------------------------------- 277 category codes → processor status → claim status

CATEGORY_TABLE = [
    ("A0", Category.RECEIVED, ClaimStatus.PENDING),
    ("A1", Category.RECEIVED, ClaimStatus.PENDING),
    ("A2", Category.ACCEPTED, ClaimStatus.PENDING),
    ("A3", Category.UNPROCESSABLE, ClaimStatus.IN_REVIEW),
    ("A4", Category.NOT_FOUND, ClaimStatus.IN_REVIEW),
    ("A5", Category.ACCEPTED, ClaimStatus.PENDING),
    ("A6", Category.REJECTED_MISSING_INFO, ClaimStatus.IN_REVIEW),
    ("A7", Category.REJECTED_INVALID_INFO, ClaimStatus.IN_REVIEW),
    ("A8", Category.REJECTED_INVALID_INFO, ClaimStatus.IN_REVIEW),
    ("D0", Category.NOT_FOUND, ClaimStatus.IN_REVIEW),
    ("F0", Category.FINALIZED_PAID, ClaimStatus.APPROVED),
    ("F1", Category.FINALIZED_PAID, ClaimStatus.APPROVED),
    ("F2", Category.FINALIZED_DENIED, ClaimStatus.IN_REVIEW),
    ("F3", Category.FINALIZED_REVISED, ClaimStatus.APPROVED),
    ("F3F", Category.FINALIZED_REVISED, ClaimStatus.APPROVED),
    ("F3N", Category.FINALIZED_REVISED, ClaimStatus.APPROVED),
    ("F4", Category.FINALIZED_NO_PAYMENT, ClaimStatus.IN_REVIEW),
    ("P0", Category.PENDING, ClaimStatus.PENDING),
    ("P1", Category.PENDING, ClaimStatus.PENDING),
    ("P2", Category.PENDING_PAYER_REVIEW, ClaimStatus.PENDING),
    ("P3", Category.PENDING_INFO_FROM_PROVIDER, ClaimStatus.IN_REVIEW),
    ("P4", Category.PENDING_INFO_FROM_PATIENT, ClaimStatus.IN_REVIEW),
    ("P5", Category.PENDING, ClaimStatus.PENDING),
    ("R0", Category.PENDING_INFO_FROM_PROVIDER, ClaimStatus.IN_REVIEW),
    ("R16", Category.PENDING_INFO_FROM_PROVIDER, ClaimStatus.IN_REVIEW),
]


@pytest.mark.parametrize(("code", "category", "claim_status"), CATEGORY_TABLE)
def test_277_category_code_to_processor_status_and_claim_status(
    code: str, category: Category, claim_status: ClaimStatus
) -> None:
    """Each code's processor status, and where a claim of 45.00 goes on it (paid in full when finalized and paid)."""
    assert processor_category(code) is category
    paid = (
        [{"line_number": 1, "billed": "45.00", "allowed": "45.00", "paid": "45.00"}]
        if category in (Category.FINALIZED_PAID, Category.FINALIZED_REVISED)
        else []
    )
    answer = ProcessorStatus.model_validate({"payer_claim_id": "P1", "category": category, "lines": paid})
    assert route(answer, Decimal("45.00"), Decimal("1000.00")).status is claim_status


@pytest.mark.parametrize("code", ["E0", "E1", "E2", "E3", "E4"])
def test_277_category_codes_about_the_request_say_nothing_of_the_claim(code: str) -> None:
    assert processor_category(code) is None


def test_277_category_table_covers_code_list_507() -> None:
    expected = {f"A{n}" for n in range(9)} | {"D0"} | {f"E{n}" for n in range(5)} | {f"F{n}" for n in range(5)}
    expected |= {"F3F", "F3N"} | {f"P{n}" for n in range(6)} | {f"R{n}" for n in range(17)}
    assert set(CATEGORY_CODES) == expected
    assert all(entry.description for entry in CATEGORY_CODES.values())


def test_unknown_277_category_code_is_a_clear_error() -> None:
    with pytest.raises(UnknownCategoryCodeError, match="'Z9' is not in X12 code list 507"):
        processor_category("Z9")


# ---------------------------------------------------------------- 271


def test_271_active_with_copay_coinsurance_deductible_and_remaining() -> None:
    (answer,) = parse_271(sample("271_active.x12"))
    assert answer.coverage is CoverageStatus.ACTIVE and answer.active
    assert (answer.payer_id, answer.trace_number, answer.control_number) == ("SANDBOX", "ELIG-REQ-0001", "0001")
    assert (answer.plan_name, answer.group_number, answer.plan_begin) == ("GOLD PPO", "G100", dt.date(2026, 1, 1))
    assert answer.in_network is True
    assert answer.prior_authorization_required is True
    network = answer.in_network_benefits
    assert (network.copay, network.coinsurance_rate) == (Decimal("25.00"), Decimal("0.2"))
    assert (network.deductible, network.deductible_remaining) == (Decimal("1500.00"), Decimal("600.00"))
    assert (network.out_of_pocket, network.out_of_pocket_remaining) == (Decimal("5000.00"), Decimal("3200.00"))
    outside = answer.out_of_network_benefits
    assert (outside.copay, outside.coinsurance_rate, outside.deductible) == (Decimal("50.00"), Decimal("0.4"), None)
    assert answer.benefits[0].service_types == ["30", "5"]
    assert answer.benefits[-1].messages == ["PRIOR AUTHORIZATION REQUIRED FOR GENETIC TESTING"]
    member = answer.subscriber
    assert (member.last_name, member.first_name, member.middle_name, member.member_id) == (
        "RUIZ",
        "ANA",
        "M",
        "M123456",
    )
    assert (member.date_of_birth, member.sex) == (dt.date(1980, 4, 2), "F")
    assert answer.patient is None and answer.rejections == []


def test_271_models_keep_the_member_out_of_their_repr() -> None:
    (answer,) = parse_271(sample("271_active.x12"))
    text = repr(answer) + str(answer) + repr(answer.subscriber)
    assert not any(value in text for value in ("RUIZ", "ANA", "M123456", "1980", "GENETIC"))
    assert "1500.00" in text  # amounts and codes stay readable


def test_271_dependent_is_answered_with_the_subscriber_beside_them() -> None:
    text = replace_segment(sample("271_active.x12"), "HL*3*2*22*0~", "HL*3*2*22*1~")
    dependent = "HL*4*3*23*0~\nTRN*2*ELIG-REQ-0004*9CLAIMFLOW~\nNM1*03*1*RUIZ*LUCA~\nDMG*D8*20150301*M~\nEB*1*IND*30*PR*GOLD PPO~\n"
    text = replace_segment(text, "SE*27*0001~", dependent + "SE*32*0001~")
    (answer,) = parse_271(text)
    assert answer.subscriber.member_id == "M123456"
    assert answer.patient is not None
    assert (answer.patient.first_name, answer.patient.date_of_birth) == ("LUCA", dt.date(2015, 3, 1))
    assert (answer.trace_number, answer.coverage, answer.plan_name) == (
        "ELIG-REQ-0004",
        CoverageStatus.ACTIVE,
        "GOLD PPO",
    )


def test_271_inactive() -> None:
    (answer,) = parse_271(sample("271_inactive.x12"))
    assert answer.coverage is CoverageStatus.INACTIVE and not answer.active
    assert answer.plan_end == dt.date(2025, 12, 31)
    assert answer.subscriber.member_id == "INACT001"
    assert answer.in_network_benefits.copay is None


def test_271_aaa_rejection() -> None:
    (answer,) = parse_271(sample("271_rejected.x12"))
    assert answer.coverage is CoverageStatus.UNKNOWN and not answer.active
    (rejection,) = answer.rejections
    assert (rejection.loop, rejection.valid_request, rejection.reason_code, rejection.follow_up_action) == (
        "subscriber",
        False,
        "75",
        "C",
    )
    assert answer.subscriber.member_id == "NOSUCH01"


def test_271_rejection_of_one_benefit_leaves_the_coverage_active() -> None:
    text = replace_segment(
        sample("271_active.x12"), "EB*1*IND*5*PR*******Y*Y~", "EB*1*IND*5*PR*******Y*Y~\nAAA*Y**41*C~"
    )
    text = replace_segment(text, "SE*27*0001~", "SE*28*0001~")
    (answer,) = parse_271(text)
    assert answer.coverage is CoverageStatus.ACTIVE
    assert [(r.loop, r.reason_code) for r in answer.rejections] == [("benefit", "41")]


def test_271_rejected_at_the_payer_level_answers_unknown_coverage() -> None:
    text = sample("271_rejected.x12")
    body = text[text.index("HL*3*2*22*0~") : text.index("SE*")]
    text = text.replace(body, "").replace(
        "NM1*PR*2*SANDBOX PAYER*****PI*SANDBOX~", "NM1*PR*2*SANDBOX PAYER*****PI*SANDBOX~\nAAA*Y**42*R~"
    )
    text = text.replace("SE*12*0001~", "SE*8*0001~")
    (answer,) = parse_271(text)
    assert answer.coverage is CoverageStatus.UNKNOWN
    assert [(r.loop, r.valid_request, r.reason_code, r.follow_up_action) for r in answer.rejections] == [
        ("payer", True, "42", "R")
    ]


# ---------------------------------------------------------------- 835


def test_835_payment_and_trace() -> None:
    (remittance,) = parse_835(sample("835.x12"))
    payment = remittance.payment
    assert (payment.handling_code, payment.amount, payment.credit_debit, payment.method) == (
        "I",
        Decimal("34.50"),
        "C",
        "ACH",
    )
    assert (payment.date, payment.trace_number, payment.payer_identifier) == (
        dt.date(2026, 12, 5),
        "EFT0000012345",
        "1512345678",
    )
    assert (remittance.payer_name, remittance.payee_name, remittance.payee_npi) == (
        "SANDBOX PAYER",
        "ACME LAB",
        "1234567893",
    )
    assert remittance.production_date == dt.date(2026, 12, 5)
    assert remittance.balanced and remittance.findings == []


def test_835_paid_claim_with_line_adjustment_allowed_and_control_number() -> None:
    paid = parse_835(sample("835.x12"))[0].claims[0]
    assert paid.patient_control_number == "LAB-000130"
    assert (paid.status, paid.billed, paid.paid, paid.patient_responsibility) == (
        ClaimPaymentStatus.PRIMARY, Decimal("45.00"), Decimal("36.00"), Decimal("0.00"),
    )  # fmt: skip
    assert (paid.payer_claim_id, paid.frequency_code, paid.facility_code) == ("PAYERCLM0010", "1", "81")
    (line,) = paid.lines
    assert (line.procedure_qualifier, line.procedure_code, line.billed, line.paid, line.units) == (
        "HC",
        "80053",
        Decimal("45.00"),
        Decimal("36.00"),
        Decimal(1),
    )
    assert (line.service_date, line.line_control_number, line.allowed) == (
        dt.date(2026, 11, 20),
        "L1",
        Decimal("36.00"),
    )
    assert [(a.group, a.reason_code, a.amount) for a in line.adjustments] == [
        (GroupCode.CONTRACTUAL, "45", Decimal("9.00"))
    ]


def test_835_partially_paid_claim_with_patient_responsibility_and_a_denied_line() -> None:
    partial = parse_835(sample("835.x12"))[0].claims[1]
    assert (partial.billed, partial.paid, partial.patient_responsibility) == (
        Decimal("160.00"),
        Decimal("70.00"),
        Decimal("20.00"),
    )
    first, second = partial.lines
    assert (first.procedure_code, first.modifiers) == ("85025", ["91"])
    assert [(a.group, a.reason_code, a.amount) for a in first.adjustments] == [
        (GroupCode.CONTRACTUAL, "45", Decimal("10.00")),
        (GroupCode.PATIENT_RESPONSIBILITY, "2", Decimal("20.00")),
    ]
    assert (second.paid, second.remark_codes, second.line_control_number) == (Decimal("0.00"), ["N115"], "L2")
    assert [(a.group, a.reason_code) for a in second.adjustments] == [(GroupCode.CONTRACTUAL, "50")]


def test_835_denied_claim_with_claim_level_adjustment_and_remark() -> None:
    denied = parse_835(sample("835.x12"))[0].claims[2]
    assert (denied.status, denied.paid, denied.lines) == (ClaimPaymentStatus.DENIED, Decimal("0.00"), [])
    assert [(a.group, a.reason_code, a.amount) for a in denied.adjustments] == [
        (GroupCode.CONTRACTUAL, "50", Decimal("60.00"))
    ]
    assert denied.remark_codes == ["N130"]


def test_835_reversal_keeps_its_negative_amounts() -> None:
    reversal = parse_835(sample("835.x12"))[0].claims[3]
    assert reversal.status is ClaimPaymentStatus.REVERSAL and reversal.reversal
    assert (reversal.billed, reversal.paid, reversal.payer_claim_id) == (
        Decimal("-80.00"),
        Decimal("-64.00"),
        "PAYERCLM0000",
    )
    assert reversal.lines[0].adjustments[0].amount == Decimal("-16.00")


def test_835_provider_level_adjustments_are_kept_apart_from_the_claims() -> None:
    remittance = parse_835(sample("835.x12"))[0]
    assert [
        (a.provider_id, a.fiscal_period_date, a.reason_code, a.reference, a.amount)
        for a in remittance.provider_adjustments
    ] == [
        ("1234567893", dt.date(2026, 12, 31), "L6", "LAB-000131", Decimal("-2.50")),
        ("1234567893", dt.date(2026, 12, 31), "WO", "PAYERCLM0000", Decimal("10.00")),
    ]
    assert remittance.claims_paid == Decimal("42.00")  # 36 + 70 + 0 - 64; the PLB moves the payment to 34.50
    assert remittance.payment.amount == Decimal("34.50") and remittance.balanced
    assert not any(a.reason_code in ("L6", "WO") for claim in remittance.claims for a in claim.adjustments)


def test_835_cas_with_six_triplets_and_quantities() -> None:
    text = replace_segment(
        sample("835.x12"), "CAS*CO*45*9.00~", "CAS*CO*45*4.00*1*253*1.00**A1*1.00**B6*1.00**45*1.00**94*1.00~"
    )
    (line,) = parse_835(text)[0].claims[0].lines
    assert [(a.reason_code, a.amount, a.quantity) for a in line.adjustments] == [
        ("45", Decimal("4.00"), Decimal(1)),
        ("253", Decimal("1.00"), None),
        ("A1", Decimal("1.00"), None),
        ("B6", Decimal("1.00"), None),
        ("45", Decimal("1.00"), None),
        ("94", Decimal("1.00"), None),
    ]
    assert parse_835(text)[0].balanced


def test_835_imbalances_are_findings_not_exceptions() -> None:
    """The first line says it paid 37.00 where 45.00 - 9.00 is 36.00: the line, its claim and the payment are off."""
    text = replace_segment(sample("835.x12"), "SVC*HC:80053*45.00*36.00**1~", "SVC*HC:80053*45.00*37.00**1~")
    text = replace_segment(text, "CLP*LAB-000130*1*45.00*36.00**", "CLP*LAB-000130*1*45.00*35.00**")
    (remittance,) = parse_835(text)
    assert not remittance.balanced
    assert [(f.rule, f.position, f.stated, f.computed) for f in remittance.findings] == [
        (BalanceRule.LINE, 16, Decimal("37.00"), Decimal("36.00")),
        (BalanceRule.CLAIM, 14, Decimal("35.00"), Decimal("36.00")),
        (BalanceRule.PAYMENT, 4, Decimal("34.50"), Decimal("33.50")),
    ]
    assert remittance.findings[0].message == "segment 16: the line does not balance (stated 37.00, computed 36.00)"


def test_835_models_keep_the_patient_control_number_out_of_their_repr() -> None:
    (remittance,) = parse_835(sample("835.x12"))
    assert "LAB-000130" not in repr(remittance)
    assert "PAYERCLM0010" in repr(remittance)
