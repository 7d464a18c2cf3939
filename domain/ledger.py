"""The remittance ledger: what each payment answer posts per claim line, append-only, and the totals it adds up to.

A payment answer (an 835 claim payment, a JSON processor answer, an adjuster's decision) posts entries; nothing is
ever edited. A reversal (835 CLP02 = 22) posts the negated amounts; an answer that states a claim's whole
adjudication (`replaces_standing`: the JSON processor's, an adjuster's) first reverses what stands, then posts its
own entries as a correction. Every entry has a posting key derived from its answer's stable id, so the same answer
posted twice adds nothing, and since the totals are sums, answers that arrive out of order (a reversal before its
original) leave the same ledger. A processor's status answer that restates the lines of an 835 already posted (the
X12 path reads it from that 835) adds nothing: the 835's own entries, its claim-level adjustments with them, stand.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum

from pydantic import BaseModel, ConfigDict

from domain.adjudication import Adjustment, GroupCode, LineAdjudication, patient_share
from domain.money import SignedMoney, total

ZERO = Decimal("0.00")


class LedgerKind(StrEnum):
    """Why an entry was posted."""

    ADJUDICATION = "adjudication"  # the first answer about the claim
    REVERSAL = "reversal"  # backs out an earlier answer (negated amounts)
    CORRECTION = "correction"  # an answer that follows an earlier one


class LedgerSource(StrEnum):
    """Who gave the answer."""

    PROCESSOR = "processor"  # the processor's JSON answer
    ADJUSTER = "adjuster"  # an adjuster's decision
    REMITTANCE = "remittance"  # an X12 835


class PaymentAnswer(BaseModel):
    """What one payment answer says about one claim: its lines, and what it says at claim level.

    Amounts are as adjudicated (never negative); a reversal carries the amounts of the answer it reverses and posts
    them negated. `claim_billed`/`claim_paid`/`claim_patient_responsibility` are the claim's stated totals (835
    CLP03-05); where they differ from the lines' sums, a claim-level entry posts the difference.
    """

    model_config = ConfigDict(frozen=True)

    #: Stable per remittance and claim (e.g. "835:<trace>:<payer claim id>:<CLP02>", "status:<seq>"): the
    #: idempotency key of everything this answer posts.
    remittance_id: str
    source: LedgerSource
    at: datetime
    payer_claim_id: str = ""
    reversal: bool = False
    #: The answer states the claim's whole adjudication (not a delta): what stands is reversed before it posts.
    replaces_standing: bool = False
    lines: list[LineAdjudication] = []
    claim_adjustments: list[Adjustment] = []
    claim_remark_codes: list[str] = []
    claim_billed: SignedMoney | None = None
    claim_paid: SignedMoney | None = None
    claim_patient_responsibility: SignedMoney | None = None


class LedgerEntry(BaseModel):
    """One posting: a claim line's (or, with no line number, the claim's own) amounts from one answer."""

    model_config = ConfigDict(frozen=True)

    posting_key: str
    remittance_id: str
    source: LedgerSource
    kind: LedgerKind
    at: datetime
    payer_claim_id: str = ""
    line_number: int | None = None
    billed: SignedMoney = ZERO
    allowed: SignedMoney = ZERO
    paid: SignedMoney = ZERO
    patient_responsibility: SignedMoney = ZERO
    adjustments: list[Adjustment] = []
    remark_codes: list[str] = []
    #: The remittance this entry backs out (reversals; None for a reversal that arrived before its original).
    reverses: str | None = None

    def negated(self, *, posting_key: str, remittance_id: str, source: LedgerSource, at: datetime) -> LedgerEntry:
        """This entry backed out by a later answer."""
        return self.model_copy(
            update={
                "posting_key": posting_key,
                "remittance_id": remittance_id,
                "source": source,
                "kind": LedgerKind.REVERSAL,
                "at": at,
                "billed": -self.billed,
                "allowed": -self.allowed,
                "paid": -self.paid,
                "patient_responsibility": -self.patient_responsibility,
                "adjustments": [a.negated() for a in self.adjustments],
                "reverses": self.remittance_id,
            }
        )


#: An 835 claim payment's answer id is "835:<payer>:<trace>:<payer claim id>:<CLP02>" (each part escaped): its first
#: three parts are the remittance's own id, the one its provider-level (PLB) adjustments carry.
REMITTANCE_ID_PATTERN = "^835:[^:]*:[^:]*"


def _part(value: str) -> str:
    """One part of a remittance id, its separator escaped (a trace or claim id may hold a colon)."""
    return value.replace("%", "%25").replace(":", "%3A")


def remittance_key(payer: str, trace_number: str) -> str:
    """An 835's own id: the payer and its check or EFT trace number."""
    return f"835:{_part(payer)}:{_part(trace_number)}"


def remittance_answer_key(remittance: str, payer_claim_id: str, status: str) -> str:
    """The answer id of one claim payment (CLP) of the 835 whose own id is `remittance`."""
    return f"{remittance}:{_part(payer_claim_id)}:{_part(status)}"


class ProviderAdjustment(BaseModel):
    """A provider-level adjustment (835 PLB): money between payer and provider that belongs to no claim."""

    model_config = ConfigDict(frozen=True)

    remittance_id: str
    position: int
    payer_id: str = ""
    provider_id: str
    fiscal_period_date: date | None = None
    reason_code: str
    reference: str = ""
    amount: SignedMoney


class Totals(BaseModel):
    """What entries add up to; adjustments net by group and reason (those netting to zero left out)."""

    model_config = ConfigDict(frozen=True)

    billed: SignedMoney = ZERO
    allowed: SignedMoney = ZERO
    paid: SignedMoney = ZERO
    patient_responsibility: SignedMoney = ZERO
    adjustments: list[Adjustment] = []


class LineTotals(Totals):
    line_number: int


def _key(remittance_id: str, kind: LedgerKind, line_number: int | None, reverses: str = "") -> str:
    where = "claim" if line_number is None else f"line:{line_number}"
    return f"{remittance_id}|{kind.value}{f'<{reverses}' if reverses else ''}|{where}"


def _remittances(entries: Iterable[LedgerEntry]) -> list[str]:
    """The remittance ids of the entries, in the order they were first posted."""
    return list(dict.fromkeys(e.remittance_id for e in entries))


def standing(entries: list[LedgerEntry]) -> list[str]:
    """The answers (remittance ids) that stand: posted as adjudication or correction and not reversed. A reversal
    that arrived before its original cancels the first standing answer of its payer claim id."""
    reversed_ = {e.reverses for e in entries if e.kind is LedgerKind.REVERSAL}
    answers = [r for r in _remittances(e for e in entries if e.kind is not LedgerKind.REVERSAL) if r not in reversed_]
    early = [e for e in entries if e.kind is LedgerKind.REVERSAL and e.reverses is None]
    for orphan in _remittances(early):
        claim = _payer_claim_id(entries, orphan)
        match = next((r for r in answers if _payer_claim_id(entries, r) == claim), None)
        if match is not None:
            answers.remove(match)
    return answers


def _answer_entries(answer: PaymentAnswer, kind: LedgerKind, reverses: str | None) -> list[LedgerEntry]:
    """The answer's own entries, as adjudicated (the caller negates a reversal's)."""
    common = {
        "remittance_id": answer.remittance_id,
        "source": answer.source,
        "kind": kind,
        "at": answer.at,
        "payer_claim_id": answer.payer_claim_id,
        "reverses": reverses,
    }
    entries = [
        LedgerEntry(
            posting_key=_key(answer.remittance_id, kind, line.line_number),
            line_number=line.line_number,
            billed=line.billed,
            allowed=line.allowed,
            paid=line.paid,
            patient_responsibility=line.patient_responsibility,
            adjustments=list(line.adjustments),
            remark_codes=list(line.remark_codes),
            **common,
        )
        for line in answer.lines
    ]
    lines_billed = total([line.billed for line in answer.lines])
    lines_paid = total([line.paid for line in answer.lines])
    lines_patient = total([line.patient_responsibility for line in answer.lines])
    billed = ZERO if answer.claim_billed is None else answer.claim_billed - lines_billed
    paid = (
        billed - total([a.amount for a in answer.claim_adjustments])
        if answer.claim_paid is None
        else answer.claim_paid - lines_paid
    )
    patient = (
        patient_share(answer.claim_adjustments)
        if answer.claim_patient_responsibility is None
        else answer.claim_patient_responsibility - lines_patient
    )
    if billed or paid or patient or answer.claim_adjustments or answer.claim_remark_codes:
        entries.append(
            LedgerEntry(
                posting_key=_key(answer.remittance_id, kind, None),
                line_number=None,
                billed=billed,
                allowed=paid + patient,
                paid=paid,
                patient_responsibility=patient,
                adjustments=list(answer.claim_adjustments),
                remark_codes=list(answer.claim_remark_codes),
                **common,
            )
        )
    return entries


def post(ledger: list[LedgerEntry], answer: PaymentAnswer) -> list[LedgerEntry]:
    """The entries an answer adds to a claim's ledger (in posting order); none if it was posted before."""
    if any(e.remittance_id == answer.remittance_id for e in ledger) or _restates_remittance(ledger, answer):
        return []
    if answer.reversal:
        same_claim = [r for r in standing(ledger) if _payer_claim_id(ledger, r) == answer.payer_claim_id]
        original = same_claim[-1] if same_claim else None  # None: the original has not arrived yet
        return [
            entry.negated(
                posting_key=entry.posting_key, remittance_id=answer.remittance_id, source=answer.source, at=answer.at
            ).model_copy(update={"reverses": original})
            for entry in _answer_entries(answer, LedgerKind.REVERSAL, None)
        ]
    posted: list[LedgerEntry] = []
    if answer.replaces_standing:
        for remittance in standing(ledger):
            posted += [
                entry.negated(
                    posting_key=_key(answer.remittance_id, LedgerKind.REVERSAL, entry.line_number, remittance),
                    remittance_id=answer.remittance_id,
                    source=answer.source,
                    at=answer.at,
                )
                for entry in ledger
                if entry.remittance_id == remittance
            ]
    earlier = any(e.kind is not LedgerKind.REVERSAL for e in ledger)
    kind = LedgerKind.CORRECTION if earlier else LedgerKind.ADJUDICATION
    return posted + _answer_entries(answer, kind, None)


def _line_facts(line: LineAdjudication | LedgerEntry) -> tuple[object, ...]:
    return (
        line.line_number,
        line.billed,
        line.allowed,
        line.paid,
        line.patient_responsibility,
        tuple(line.adjustments),
        tuple(line.remark_codes),
    )


def _restates_remittance(ledger: list[LedgerEntry], answer: PaymentAnswer) -> bool:
    """A processor's status answer that says, line for line, what the standing 835s posted (and nothing at claim
    level): the X12 path read it from those 835s, so it is the same adjudication, already in the ledger."""
    if not answer.replaces_standing or answer.source is not LedgerSource.PROCESSOR or not answer.lines:
        return False  # an answer without lines (a void's reversal) restates nothing
    if answer.claim_adjustments or answer.claim_remark_codes or answer.claim_billed is not None:
        return False
    answers = set(standing(ledger))
    stands = [e for e in ledger if e.remittance_id in answers]
    if not any(e.source is LedgerSource.REMITTANCE for e in stands):
        return False
    posted = [_line_facts(e) for e in stands if e.line_number is not None]
    for line in answer.lines:
        facts = _line_facts(line)
        if facts not in posted:
            return False
        posted.remove(facts)
    return not posted


def _payer_claim_id(ledger: list[LedgerEntry], remittance_id: str) -> str:
    return next(e.payer_claim_id for e in ledger if e.remittance_id == remittance_id)


def _net_adjustments(entries: Iterable[LedgerEntry]) -> list[Adjustment]:
    net: dict[tuple[GroupCode, str], list[Decimal]] = defaultdict(list)
    quantity: dict[tuple[GroupCode, str], Decimal | None] = {}
    for entry in entries:
        for a in entry.adjustments:
            key = (a.group_code, a.reason_code)
            net[key].append(a.amount)
            if a.quantity is not None:
                quantity[key] = (quantity.get(key) or Decimal(0)) + a.quantity
    return [
        Adjustment(group_code=group, reason_code=reason, amount=total(amounts), quantity=quantity.get((group, reason)))
        for (group, reason), amounts in net.items()
        if total(amounts) != 0
    ]


def totals(entries: list[LedgerEntry]) -> Totals:
    """What the entries add up to: the claim's totals when given all of them."""
    return Totals(
        billed=total([e.billed for e in entries]),
        allowed=total([e.allowed for e in entries]),
        paid=total([e.paid for e in entries]),
        patient_responsibility=total([e.patient_responsibility for e in entries]),
        adjustments=_net_adjustments(entries),
    )


def line_totals(entries: list[LedgerEntry]) -> list[LineTotals]:
    """Per claim line (claim-level entries aside), what its entries add up to, by line number."""
    by_line: dict[int, list[LedgerEntry]] = defaultdict(list)
    for entry in entries:
        if entry.line_number is not None:
            by_line[entry.line_number].append(entry)
    return [LineTotals(line_number=number, **totals(by_line[number]).model_dump()) for number in sorted(by_line)]
