"""The sandbox's own X12 writer: the 999 + 277CA it answers an 837P with, the 277 for a 276, and the 835.

Written by the sandbox itself (never the engine's writer): what it answers is what a payer would send back.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from sandbox.adjudication import ClaimLevelAdjustment, ProviderLevelAdjustment
from sandbox.money import ZERO

_ELEMENT, _COMPONENT, _TERMINATOR, _REPETITION = "*", ":", "~", "^"


@dataclass(frozen=True)
class Parties:
    """Who answers whom: the sandbox (ISA06) and the submitter it answers (ISA08)."""

    sandbox_id: str
    submitter_id: str


@dataclass
class _Group:
    functional_id: str
    version: str
    sets: list[list[str]] = field(default_factory=list)


def _segment(tag: str, *elements: str | Sequence[str]) -> str:
    values = [e if isinstance(e, str) else _COMPONENT.join(e) for e in elements]
    while values and values[-1] == "":
        values.pop()
    return _ELEMENT.join([tag, *values])


def _interchange(parties: Parties, control: int, at: datetime, groups: list[_Group]) -> str:
    """ISA … IEA around the groups; each group and set numbered from the interchange's control number."""
    isa13 = f"{control:09d}"
    out = [
        _ELEMENT.join(
            [
                "ISA",
                "00",
                " " * 10,
                "00",
                " " * 10,
                "ZZ",
                parties.sandbox_id.ljust(15)[:15],
                "ZZ",
                parties.submitter_id.ljust(15)[:15],
                at.strftime("%y%m%d"),
                at.strftime("%H%M"),
                _REPETITION,
                "00501",
                isa13,
                "0",
                "T",
                _COMPONENT,
            ]
        )
    ]
    for number, group in enumerate(groups, 1):
        gs06 = str(control * 10 + number)
        out.append(
            _segment(
                "GS",
                group.functional_id,
                parties.sandbox_id,
                parties.submitter_id,
                at.strftime("%Y%m%d"),
                at.strftime("%H%M"),
                gs06,
                "X",
                group.version,
            )
        )
        for index, body in enumerate(group.sets, 1):
            st02 = f"{index:04d}"
            transaction = [body[0].replace("{ST02}", st02), *body[1:]]
            out.extend(transaction)
            out.append(_segment("SE", str(len(transaction) + 1), st02))
        out.append(_segment("GE", str(len(group.sets)), gs06))
    out.append(_segment("IEA", str(len(groups)), isa13))
    return "".join(segment + _TERMINATOR + "\n" for segment in out)


def _name(entity: str, names: dict[str, str], *, who: str, id_qualifier: str, identifier: str) -> str:
    """NM1 for a person (`who` patient or subscriber, from the names the claim carried) or, for "provider", the
    organisation."""
    if who == "provider":
        last, first, kind = names.get("provider", "PROVIDER"), "", "2"
    else:
        last, first, kind = names.get(f"{who}_last", ""), names.get(f"{who}_first", ""), "1"
    return _segment("NM1", entity, kind, last, first, "", "", "", id_qualifier, identifier)


def _service_dates(claim: dict[str, Any]) -> str:
    """The claim's first and last service dates as an RD8 range."""
    dates = sorted(line["service_date"].replace("-", "") for line in claim["lines"])
    return f"{dates[0]}-{dates[-1]}"


def _amount(value: Decimal | str) -> str:
    text = f"{Decimal(value):.2f}".rstrip("0").rstrip(".")
    return text or "0"


def acknowledgments(
    parties: Parties,
    control: int,
    at: datetime,
    *,
    group_control_number: str,
    transaction_control_number: str,
    claim: dict[str, Any] | None,
    answer: dict[str, Any] | None,
    names: dict[str, str],
) -> str:
    """One interchange: a 999 for the 837P's group and, when it was accepted, a 277CA for its claim."""
    accepted = claim is not None and answer is not None
    code = "A" if accepted else "R"
    ack = [
        _segment("ST", "999", "{ST02}", "005010X231A1"),
        _segment("AK1", "HC", group_control_number, "005010X222A1"),
        _segment("AK2", "837", transaction_control_number, "005010X222A1"),
        _segment("IK5", code) if accepted else _segment("IK5", "R", "5"),
        _segment("AK9", code, "1", "1", "1" if accepted else "0"),
    ]
    groups = [_Group("FA", "005010X231A1", [ack])]
    if claim is not None and answer is not None:
        day = at.strftime("%Y%m%d")
        total = _amount(claim["total_charge"])
        status = (answer["category"], answer["status_code"], "PR")
        groups.append(
            _Group(
                "HN",
                "005010X214",
                [
                    [
                        _segment("ST", "277", "{ST02}", "005010X214"),
                        _segment("BHT", "0085", "08", f"ACK{control}", day, at.strftime("%H%M"), "TH"),
                        _segment("HL", "1", "", "20", "1"),
                        _segment("NM1", "PR", "2", "SANDBOX PAYER", "", "", "", "", "PI", claim["payer_id"]),
                        _segment("TRN", "1", f"ACK{control}"),
                        _segment("DTP", "050", "D8", day),
                        _segment("DTP", "009", "D8", day),
                        _segment("HL", "2", "1", "21", "1"),
                        _segment("NM1", "41", "2", "CLAIMFLOW SUBMITTER", "", "", "", "", "46", parties.submitter_id),
                        _segment("TRN", "2", group_control_number),
                        _segment("STC", ("A1", "19", "PR"), day, "WQ", total),
                        _segment("QTY", "90" if accepted else "AA", "1"),
                        _segment("AMT", "YU", total),
                        _segment("HL", "3", "2", "19", "1"),
                        _name("85", names, who="provider", id_qualifier="XX", identifier=names.get("provider_npi", "")),
                        _segment("TRN", "1", f"PROV{control}"),
                        _segment("STC", ("A1", "19", "PR"), "", "WQ", total),
                        _segment("HL", "4", "3", "PT"),
                        _name("QC", names, who="patient", id_qualifier="MI", identifier=claim["member_id"]),
                        _segment("TRN", "2", claim["patient_control_number"]),
                        _segment("STC", status, day, "WQ" if answer["category"] in ("A1", "A2") else "U", total),
                        _segment("REF", "1K", answer["payer_claim_id"]),
                        _segment("DTP", "472", "RD8", _service_dates(claim)),
                    ]
                ],
            )
        )
    return _interchange(parties, control, at, groups)


def status_277(
    parties: Parties, control: int, at: datetime, *, payer_id: str, request: Any, answer: dict[str, Any] | None
) -> str:
    """The 277 (005010X212) answering a 276: the claim's category and status code (A4 when it is not known)."""
    day = at.strftime("%Y%m%d")
    if answer is None:
        stc = _segment("STC", ("A4", "35"), day)
    else:
        paid = sum((Decimal(line["paid"]) for line in answer.get("lines", [])), ZERO)
        billed = answer.get("total_charge")
        stc = _segment(
            "STC",
            (answer["category"], answer["status_code"]),
            day,
            "",
            _amount(billed) if billed else "",
            _amount(paid) if answer.get("lines") else "",
        )
    names = request.names
    body = [
        _segment("ST", "277", "{ST02}", "005010X212"),
        _segment("BHT", "0010", "08", f"STAT{control}", day, at.strftime("%H%M"), "DG"),
        _segment("HL", "1", "", "20", "1"),
        _segment("NM1", "PR", "2", "SANDBOX PAYER", "", "", "", "", "PI", payer_id),
        _segment("HL", "2", "1", "21", "1"),
        _segment("NM1", "41", "2", "CLAIMFLOW SUBMITTER", "", "", "", "", "46", parties.submitter_id),
        _segment("HL", "3", "2", "19", "1"),
        _name("1P", names, who="provider", id_qualifier="XX", identifier=names.get("provider_npi", "")),
        _segment("HL", "4", "3", "22", "0"),
        _name("IL", names, who="subscriber", id_qualifier="MI", identifier=request.member_id),
        _segment("TRN", "2", request.trace_number),
        stc,
        _segment("REF", "1K", request.payer_claim_id),
    ]
    return _interchange(parties, control, at, [_Group("HN", "005010X212", [body])])


def remittance_835(
    parties: Parties,
    control: int,
    at: datetime,
    *,
    claim: dict[str, Any],
    payer_claim_id: str,
    category: str,
    lines: list[dict[str, Any]],
    names: dict[str, str],
    trace_number: str,
    claim_adjustment: ClaimLevelAdjustment | None = None,
    provider_adjustment: ProviderLevelAdjustment | None = None,
) -> str:
    """The 835 (005010X221A1) paying (or denying) one claim: it balances line, claim and payment. A claim-level
    adjustment is taken from what the lines paid (CLP04); a provider-level one (PLB) from the payment (BPR02)."""
    day = at.strftime("%Y%m%d")
    paid = sum((Decimal(line["paid"]) for line in lines), ZERO)
    patient = sum(
        (Decimal(a["amount"]) for line in lines for a in line["adjustments"] if a["group_code"] == "PR"), ZERO
    )
    if claim_adjustment is not None:
        paid -= claim_adjustment.amount
        if claim_adjustment.group_code == "PR":
            patient += claim_adjustment.amount
    payment = paid - (provider_adjustment.amount if provider_adjustment is not None else ZERO)
    if payment > ZERO:
        bpr = _segment(
            "BPR",
            "I",
            _amount(payment),
            "C",
            "ACH",
            "CCP",
            "01",
            "999999992",
            "DA",
            "123456",
            "1512345678",
            "",
            "01",
            "999988880",
            "DA",
            "98765",
            day,
        )
    else:
        bpr = _segment("BPR", "H", "0", "C", "NON", "", "", "", "", "", "", "", "", "", "", "", day)
    clp02 = "4" if category == "F2" else "1"
    body = [
        _segment("ST", "835", "{ST02}"),  # ST03 is not used in the 835
        bpr,
        _segment("TRN", "1", trace_number, "1512345678"),
        _segment("DTM", "405", day),
        _segment("N1", "PR", "SANDBOX PAYER"),
        _segment("N3", "1 PAYER WAY"),
        _segment("N4", "NASHVILLE", "TN", "37201"),
        _segment("PER", "BL", "EDI SUPPORT", "TE", "8005551212"),
        _segment("N1", "PE", names.get("provider", "PROVIDER"), "XX", names.get("provider_npi", "")),
        _segment("LX", "1"),
        _segment(
            "CLP",
            claim["patient_control_number"],
            clp02,
            _amount(claim["total_charge"]),
            _amount(paid),
            _amount(patient) if patient else "",
            "12",
            payer_claim_id,
            "81",
            claim.get("frequency_code", "1"),
        ),
    ]
    if claim_adjustment is not None:
        body.append(
            _segment("CAS", claim_adjustment.group_code, claim_adjustment.reason_code, _amount(claim_adjustment.amount))
        )
    body.append(_name("QC", names, who="patient", id_qualifier="MI", identifier=claim["member_id"]))
    by_number = {line["line_number"]: line for line in claim["lines"]}
    for line in lines:
        billed_line = by_number.get(line["line_number"], {})
        procedure = ["HC", billed_line.get("procedure_code", ""), *billed_line.get("modifiers", [])]
        body.append(
            _segment(
                "SVC", procedure, _amount(line["billed"]), _amount(line["paid"]), "", str(billed_line.get("units", 1))
            )
        )
        if billed_line.get("service_date"):
            body.append(_segment("DTM", "472", billed_line["service_date"].replace("-", "")))
        for adjustment in line["adjustments"]:
            body.append(
                _segment("CAS", adjustment["group_code"], adjustment["reason_code"], _amount(adjustment["amount"]))
            )
        if billed_line.get("line_control_number"):
            body.append(_segment("REF", "6R", billed_line["line_control_number"]))
        body.append(_segment("AMT", "B6", _amount(line["allowed"])))
        body.extend(_segment("LQ", "HE", code) for code in line["remark_codes"])
    if provider_adjustment is not None:
        body.append(
            _segment(
                "PLB",
                names.get("provider_npi", "") or "UNKNOWN",
                f"{at.year}1231",
                (provider_adjustment.reason_code, provider_adjustment.reference),
                _amount(provider_adjustment.amount),
            )
        )
    return _interchange(parties, control, at, [_Group("HP", "005010X221A1", [body])])


def eligibility_271(
    parties: Parties, control: int, at: datetime, *, inquiry: Any, coverage: Any, on_file: tuple[str, str]
) -> str:
    """The 271 (005010X279A1) answering a 270 from the same scenarios as the JSON route (sandbox/eligibility.py):
    the member as the payer has them (NM1/DMG), then EB benefits: coverage (1 active, 6 inactive) with the plan,
    the prior-authorisation (EB11) and network (EB12) flags, copay, coinsurance, deductible and out-of-pocket.
    `on_file`: the member's last name and date of birth as the payer has them."""
    day = at.strftime("%Y%m%d")
    last_name, date_of_birth = on_file
    body = [
        _segment("ST", "271", "{ST02}", "005010X279A1"),
        _segment("BHT", "0022", "11", inquiry.trace_number, day, at.strftime("%H%M")),
        _segment("HL", "1", "", "20", "1"),
        _segment("NM1", "PR", "2", "SANDBOX PAYER", "", "", "", "", "PI", inquiry.payer_id or "SANDBOX-X12"),
        _segment("HL", "2", "1", "21", "1"),
        _segment("NM1", "1P", "2", inquiry.provider_name or "PROVIDER", "", "", "", "", "XX", inquiry.provider_npi),
        _segment("HL", "3", "2", "22", "0"),
        _segment("TRN", "2", inquiry.trace_number, "9SANDBOXPY"),
        _segment("NM1", "IL", "1", last_name, inquiry.first_name, "", "", "", "MI", inquiry.member_id),
    ]
    if inquiry.group_number:
        body.append(_segment("REF", "6P", inquiry.group_number, coverage.plan))
    if date_of_birth:
        body.append(_segment("DMG", "D8", date_of_birth, inquiry.sex))
    service = inquiry.service_type or "30"
    if not coverage.active:
        body.append(_segment("EB", "6", "IND", service))
    else:
        network = "Y" if coverage.in_network else "N"
        authorization = "Y" if coverage.prior_authorization_required else "N"
        percent = f"{Decimal(coverage.coinsurance_percent) / 100:.2f}".rstrip("0").rstrip(".") or "0"

        def benefit(code: str, period: str = "", amount: str = "", rate: str = "") -> str:
            return _segment("EB", code, "IND", service, "", "", period, amount, rate, "", "", "", network)

        body += [
            _segment("EB", "1", "IND", service, "", coverage.plan, "", "", "", "", "", authorization, network),
            benefit("B", "27", _amount(coverage.copay)),
            benefit("A", rate=percent),
            benefit("C", "23", _amount(coverage.deductible)),
            benefit("C", "29", _amount(coverage.deductible_remaining)),
            benefit("G", "29", _amount(coverage.out_of_pocket_remaining)),
        ]
    return _interchange(parties, control, at, [_Group("HB", "005010X279A1", [body])])
