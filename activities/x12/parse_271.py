"""Read a 271 eligibility response (005010X279A1): coverage, benefits, rejections and the member as the payer has them."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from activities.x12.models import (
    Benefit,
    BenefitAmounts,
    CoverageStatus,
    Demographics,
    EligibilityAnswer,
    Rejection,
)
from activities.x12.reader import Segment, TransactionSet, X12SyntaxError, parse_date, reading, transaction_sets

#: EB01 codes that say the coverage is active (1-5) or inactive (6-8).
ACTIVE_CODES = frozenset({"1", "2", "3", "4", "5"})
INACTIVE_CODES = frozenset({"6", "7", "8"})
#: EB06 "Remaining": the amount still to meet in the period.
REMAINING = "29"
#: HL03 levels, named for rejections.
_LEVELS = {"20": "payer", "21": "receiver", "22": "subscriber", "23": "dependent"}
_YES_NO = {"Y": True, "N": False}


def parse_271(text: str) -> list[EligibilityAnswer]:
    """Every member answered in the 271 transaction sets of an interchange, one answer each."""
    return [answer for transaction in transaction_sets(text, "271") for answer in _answers(transaction)]


def _benefit(segment: Segment, repetition: str) -> Benefit:
    with reading(segment):
        return Benefit(
            information_code=segment[1],
            coverage_level=segment[2],
            service_types=[s for s in segment[3].split(repetition) if s],
            insurance_type=segment[4],
            plan_description=segment[5],
            time_period=segment[6],
            amount=segment.decimal(7),
            percent=segment.decimal(8),
            quantity_qualifier=segment[9],
            quantity=segment.decimal(10),
            authorization_required=_YES_NO.get(segment[11]),
            in_network=_YES_NO.get(segment[12]),
        )


def _person(name: Segment, demographics: Segment | None) -> Demographics:
    with reading(name):
        return Demographics(
            last_name=name[3],
            first_name=name[4],
            middle_name=name[5],
            member_id=name[9],
            date_of_birth=demographics.date(2) if demographics is not None and demographics[1] == "D8" else None,
            sex=demographics[3] if demographics is not None else "",
        )


def _first(benefits: Iterable[Benefit], keep: Callable[[Benefit], bool]) -> Benefit | None:
    """The first benefit `keep` accepts, an individual's before a family's."""
    matching = [b for b in benefits if keep(b)]
    matching.sort(key=lambda b: b.coverage_level not in ("", "IND"))
    return matching[0] if matching else None


def amounts(benefits: list[Benefit], in_network: bool) -> BenefitAmounts:
    """Copay, coinsurance, deductible and out-of-pocket for one network (EB12 blank or W apply to both)."""
    network = [b for b in benefits if b.in_network is None or b.in_network is in_network]

    def amount(code: str, remaining: bool) -> Any:
        found = _first(
            network,
            lambda b: b.information_code == code and (b.time_period == REMAINING) is remaining and b.amount is not None,
        )
        return found.amount if found else None

    coinsurance = _first(network, lambda b: b.information_code == "A" and b.percent is not None)
    return BenefitAmounts(
        copay=amount("B", remaining=False),
        coinsurance_rate=coinsurance.percent if coinsurance else None,
        deductible=amount("C", remaining=False),
        deductible_remaining=amount("C", remaining=True),
        out_of_pocket=amount("G", remaining=False),
        out_of_pocket_remaining=amount("G", remaining=True),
    )


class _Member:
    """One subscriber or dependent being read (2000C/2000D and their 2100/2110 loops)."""

    def __init__(self, hl: Segment, subscriber: Demographics | None) -> None:
        self.hl = hl
        self.subscriber = subscriber
        self.name: Segment | None = None
        self.demographics: Segment | None = None
        self.fields: dict[str, Any] = {}
        self.benefits: list[Benefit] = []
        self.rejections: list[Rejection] = []
        self.in_related_entity = False  # inside LS…LE (2120): its NM1 is a provider, not the member

    def add(self, segment: Segment, repetition: str) -> None:
        in_benefit = bool(self.benefits)
        match segment.tag, segment[1]:
            case "LS", _:
                self.in_related_entity = True
            case "LE", _:
                self.in_related_entity = False
            case _ if self.in_related_entity:
                pass
            case "TRN", _ if "trace_number" not in self.fields:
                self.fields["trace_number"] = segment[2]
            case "NM1", _ if not in_benefit:
                self.name = segment
            case "DMG", _:
                self.demographics = segment
            case "REF", "6P" if not in_benefit:
                self.fields["group_number"] = segment[2]
                self.fields.setdefault("plan_name", segment[3])
            case "DTP", "346" | "356" if not in_benefit:
                self.fields["plan_begin"] = segment.date(3) if segment[2] == "D8" else None
            case "DTP", "347" | "357" if not in_benefit:
                self.fields["plan_end"] = segment.date(3) if segment[2] == "D8" else None
            case "DTP", "291" if not in_benefit and segment[2] == "RD8":
                first, _, last = segment[3].partition("-")
                self.fields["plan_begin"] = parse_date(first, segment, 3)
                self.fields["plan_end"] = parse_date(last, segment, 3)
            case "AAA", _:
                loop = "benefit" if in_benefit else _LEVELS.get(self.hl[3], self.hl[3])
                self.rejections.append(rejection(segment, loop))
            case "EB", _:
                self.benefits.append(_benefit(segment, repetition))
            case "MSG", _ if in_benefit:
                benefit = self.benefits[-1]
                self.benefits[-1] = benefit.model_copy(update={"messages": [*benefit.messages, segment[1]]})
            case _:
                pass

    def build(self, control_number: str, payer: dict[str, str], upper: list[Rejection]) -> EligibilityAnswer:
        if self.name is None:
            raise X12SyntaxError(f"{self.hl.where()}: the member has no name segment (NM1)")
        person = _person(self.name, self.demographics)
        rejections = [*upper, *self.rejections]
        codes = {b.information_code for b in self.benefits}
        if any(r.loop != "benefit" for r in rejections):  # a benefit's AAA refuses that benefit, not the member
            coverage = CoverageStatus.UNKNOWN
        elif codes & ACTIVE_CODES:
            coverage = CoverageStatus.ACTIVE
        elif codes & INACTIVE_CODES:
            coverage = CoverageStatus.INACTIVE
        else:
            coverage = CoverageStatus.UNKNOWN
        status = _first(self.benefits, lambda b: b.information_code in ACTIVE_CODES | INACTIVE_CODES)
        plan = _first(self.benefits, lambda b: b.information_code in ACTIVE_CODES and bool(b.plan_description))
        fields = dict(self.fields)
        if plan is not None:
            fields["plan_name"] = plan.plan_description
        authorizations = {b.authorization_required for b in self.benefits} - {None}
        with reading(self.hl):
            return EligibilityAnswer(
                control_number=control_number,
                **payer,
                **fields,
                coverage=coverage,
                subscriber=self.subscriber or person,
                patient=person if self.subscriber is not None else None,
                benefits=self.benefits,
                in_network_benefits=amounts(self.benefits, in_network=True),
                out_of_network_benefits=amounts(self.benefits, in_network=False),
                in_network=status.in_network if status is not None else None,
                prior_authorization_required=True if True in authorizations else (False if authorizations else None),
                rejections=rejections,
            )


def rejection(segment: Segment, loop: str) -> Rejection:
    """An AAA segment: valid request or not, the reason, the follow-up action."""
    if segment[1] not in _YES_NO:
        raise X12SyntaxError(f"{segment.where()}: element 1 is not Y or N")
    with reading(segment):
        return Rejection(
            loop=loop,
            valid_request=_YES_NO[segment[1]],
            reason_code=segment[3],
            follow_up_action=segment[4],
            position=segment.position,
        )


def _answers(transaction: TransactionSet) -> list[EligibilityAnswer]:
    repetition = transaction.group.delimiters.repetition
    payer: dict[str, str] = {}
    upper: list[Rejection] = []
    members: list[_Member] = []
    subscriber: Demographics | None = None
    current: _Member | None = None
    level = ""
    for segment in transaction.segments:
        if segment.tag == "HL":
            level = segment[3]
            if current is not None and current.hl[3] == "22" and current.name is not None:
                subscriber = _person(current.name, current.demographics)
            current = _Member(segment, subscriber if level == "23" else None) if level in ("22", "23") else None
            if current is not None:
                members.append(current)
            continue
        if current is not None:
            current.add(segment, repetition)
        elif segment.tag == "NM1" and level == "20":
            payer = {"payer_name": segment[3], "payer_id": segment[9]}
        elif segment.tag == "AAA":
            upper.append(rejection(segment, _LEVELS.get(level, level)))
    # A subscriber with dependents is answered through them; one without (HL04 = 0) is answered itself.
    answered = [m for m in members if m.hl[3] == "23" or m.hl[4] != "1"]
    if not answered:
        if not upper:
            raise X12SyntaxError(f"{transaction.segments[0].where()}: the 271 answers no member and rejects nothing")
        with reading(transaction.segments[0]):
            return [
                EligibilityAnswer(
                    control_number=transaction.control_number,
                    **payer,
                    coverage=CoverageStatus.UNKNOWN,
                    subscriber=Demographics(),
                    rejections=upper,
                )
            ]
    return [member.build(transaction.control_number, payer, upper) for member in answered]
