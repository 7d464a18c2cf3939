"""Adjuster decisions and the checks that refuse an invalid one before it is recorded."""

from __future__ import annotations

from decimal import Decimal
from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from domain.adjudication import Adjustment, GroupCode, LineAdjudication, RemarkCode
from domain.documents import DocumentType
from domain.errors import ConflictError, RefusedError
from domain.money import Money, total
from domain.status import OPEN_WORK, ClaimStatus


class DecisionAction(StrEnum):
    APPROVE = "approve"
    DENY = "deny"
    PARTIAL = "partial"
    REQUEST_INFO = "request_info"
    #: A supervisor approves the recommendation an adjuster made above their authority, as it stands.
    CONFIRM = "confirm"


class LineDecision(BaseModel):
    """An adjuster's amount (and reason, when less than billed) for one line."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    line_number: Annotated[int, Field(ge=1)]
    approved_amount: Money
    reason_code: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=10)] | None = None
    #: RARC remarks that explain the line's adjudication to the provider (e.g. N130), as an 835's LQ*HE would.
    remark_codes: Annotated[list[RemarkCode], Field(max_length=10)] = []


class Decision(BaseModel):
    """What an adjuster decided about a claim in review."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    action: DecisionAction
    lines: list[LineDecision] = []
    reason_code: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=10)] | None = None
    note: Annotated[str, StringConstraints(max_length=2000)] | None = None
    #: A request for information names the documents it needs by type; the answer must attach one of each.
    requested_documents: Annotated[list[DocumentType], Field(max_length=len(DocumentType))] = []


class BilledLine(BaseModel):
    """The billed facts of one line that decisions are checked against (no PHI)."""

    model_config = ConfigDict(frozen=True)

    line_number: int
    charge: Money


class DecisionRefusedError(RefusedError):
    """A decision that breaks a rule (HTTP 422)."""

    code = "decision_refused"


class DecisionConflictError(ConflictError):
    """A decision the claim's state or assignment does not allow (HTTP 409)."""

    code = "decision_conflict"


class Recommendation(BaseModel):
    """An approval an adjuster made above their authority limit: it waits for a supervisor (two-step approval)."""

    model_config = ConfigDict(frozen=True)

    decision: Decision
    recommended_by: str
    amount: Money


def check_decision(
    decision: Decision,
    *,
    status: ClaimStatus,
    assigned_adjuster: str | None,
    decided_by: str,
    decided_by_supervisor: bool,
    lines: list[BilledLine],
    recommendation: Recommendation | None = None,
    has_note: bool | None = None,
) -> None:
    """Raise if the decision may not be recorded; return None if it may. An approval above the adjuster's
    authority is not refused here: it is recorded as a recommendation (`needs_second_approval`).

    While a recommendation waits, only a supervisor other than the one who recommended (four eyes) may decide:
    confirm it, change it (approve or partial with other amounts), deny it or ask for information.

    `has_note`: whether a note comes with the decision (its text may be stored apart from it, as the
    workflow receives only the note's id); by default, whether `decision.note` is set.
    """
    if status is not ClaimStatus.IN_REVIEW:
        raise DecisionConflictError(f"the claim is {status.value}; decisions are taken only while it is in_review")
    if recommendation is not None:
        if decided_by == recommendation.recommended_by:
            raise DecisionConflictError(
                f"four eyes: {decided_by} recommended this approval; another supervisor must confirm, change or deny it"
            )
        if not decided_by_supervisor:
            raise DecisionConflictError(
                f"the claim waits for a supervisor to confirm {recommendation.recommended_by}'s recommendation"
            )
    elif decision.action is DecisionAction.CONFIRM:
        raise DecisionConflictError("nothing to confirm: no recommendation waits for a supervisor's approval")
    if assigned_adjuster != decided_by and not decided_by_supervisor:
        raise DecisionConflictError(
            "the claim is assigned to another adjuster; only they or a supervisor may decide it"
        )
    if decision.action is DecisionAction.CONFIRM:
        if decision.lines or decision.reason_code or decision.requested_documents:
            raise DecisionRefusedError(
                "action: confirm approves the recommendation as it stands; to change it, send approve or partial "
                "with your amounts instead"
            )
        return
    billed = {line.line_number: line.charge for line in lines}
    seen: set[int] = set()
    for index, line in enumerate(decision.lines):
        where = f"lines[{index}]"
        if line.line_number not in billed:
            raise DecisionRefusedError(
                f"{where}.line_number: the claim has no line {line.line_number} (it has 1..{len(billed)})"
            )
        if line.line_number in seen:
            raise DecisionRefusedError(f"{where}.line_number: line {line.line_number} is decided twice")
        seen.add(line.line_number)
        if line.approved_amount > billed[line.line_number]:
            raise DecisionRefusedError(
                f"{where}.approved_amount: {line.approved_amount} is more than the {billed[line.line_number]} billed"
            )
        if line.approved_amount < billed[line.line_number] and not line.reason_code:
            raise DecisionRefusedError(
                f"{where}.reason_code: a line approved for less than billed needs a CARC reason code"
            )
    match decision.action:
        case DecisionAction.DENY:
            if not decision.reason_code and not any(line.reason_code for line in decision.lines):
                raise DecisionRefusedError("reason_code: a denial needs a reason code (CARC, e.g. 50)")
        case DecisionAction.PARTIAL:
            if not decision.lines:
                raise DecisionRefusedError("lines: a partial approval names the lines and the amount approved for each")
            if approved_total(decision, lines) >= total([line.charge for line in lines]):
                raise DecisionRefusedError(
                    "lines: a partial approval approves less than billed; approve the claim instead"
                )
        case DecisionAction.APPROVE | DecisionAction.REQUEST_INFO | DecisionAction.CONFIRM:
            pass
    if decision.action in (DecisionAction.APPROVE, DecisionAction.PARTIAL) and approved_total(decision, lines) == 0:
        raise DecisionRefusedError(
            "lines: this approves nothing (every approved amount is 0.00); deny the claim with a reason code instead"
        )
    if decision.requested_documents and decision.action is not DecisionAction.REQUEST_INFO:
        raise DecisionRefusedError("requested_documents: only a request for information (request_info) names documents")
    has_text = bool(decision.note) if has_note is None else has_note
    if decision.action is DecisionAction.REQUEST_INFO and not (has_text or decision.requested_documents):
        raise DecisionRefusedError(
            "note: say what information is requested from the submitter (a note with the questions, "
            "requested_documents with the document types, or both)"
        )


class ReassignConflictError(ConflictError):
    """A reassignment the claim's state or assignment does not allow (HTTP 409)."""

    code = "reassign_conflict"


def check_reassignable(status: ClaimStatus, *, current: str | None, to: str | None) -> None:
    """Raise unless a claim in this status, assigned to `current`, may be handed to `to` (None: the rules choose)."""
    if status not in OPEN_WORK:
        raise ReassignConflictError(
            f"the claim is {status.value}; only a claim in review or waiting for information can be reassigned"
        )
    if to is not None and to == current:
        raise ReassignConflictError(f"the claim is already assigned to {to}")


def needs_second_approval(decision: Decision, lines: list[BilledLine], authority_limit: Decimal | None) -> bool:
    """Whether this approval is above the decider's authority limit (None: no limit), so that it can only be
    recorded as a recommendation for a supervisor to confirm."""
    if decision.action not in (DecisionAction.APPROVE, DecisionAction.PARTIAL) or authority_limit is None:
        return False
    return approved_total(decision, lines) > authority_limit


def approved_total(decision: Decision, lines: list[BilledLine]) -> Decimal:
    """The amount a decision approves: named lines at their amount, others in full (approve) or zero."""
    named = {line.line_number: line.approved_amount for line in decision.lines}
    match decision.action:
        case DecisionAction.APPROVE:
            return total([named.get(line.line_number, line.charge) for line in lines])
        case DecisionAction.PARTIAL:
            return total([named.get(line.line_number, Decimal("0.00")) for line in lines])
        case DecisionAction.DENY | DecisionAction.REQUEST_INFO | DecisionAction.CONFIRM:
            return Decimal("0.00")


def adjudicate(decision: Decision, lines: list[BilledLine]) -> list[LineAdjudication]:
    """Line adjudication that results from an approve, partial or deny decision (a denial pays every line 0.00,
    adjusted CO with its reason code)."""
    named = {line.line_number: line for line in decision.lines}
    result: list[LineAdjudication] = []
    for line in lines:
        chosen = named.get(line.line_number)
        if decision.action is DecisionAction.DENY:
            paid = Decimal("0.00")
        elif chosen is not None:
            paid = chosen.approved_amount
        elif decision.action is DecisionAction.APPROVE:
            paid = line.charge
        else:
            paid = Decimal("0.00")
        adjustments: list[Adjustment] = []
        if paid < line.charge:
            reason = (chosen.reason_code if chosen else None) or decision.reason_code or "45"
            adjustments.append(
                Adjustment(group_code=GroupCode.CONTRACTUAL, reason_code=reason, amount=line.charge - paid)
            )
        result.append(
            LineAdjudication(
                line_number=line.line_number,
                billed=line.charge,
                allowed=paid,
                paid=paid,
                adjustments=adjustments,
                remark_codes=list(chosen.remark_codes) if chosen else [],
            )
        )
    return result


class InformationIncompleteError(RefusedError):
    """An answer to a request for information that lacks a document type the adjuster asked for (HTTP 422)."""

    code = "information_incomplete"


def check_information_complete(requested: list[DocumentType], provided: list[DocumentType]) -> None:
    """Raise unless the documents provided hold at least one of each type requested."""
    missing = [kind.value for kind in requested if kind not in provided]
    if missing:
        raise InformationIncompleteError(
            f"document_ids: the adjuster asked for {', '.join(missing)}; upload "
            f"{'it' if len(missing) == 1 else 'them'} (POST /v1/claims/{{claim_id}}/documents) and name the document ids"
        )
