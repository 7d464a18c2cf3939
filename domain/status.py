"""The claim status machine: every status and the one table of allowed moves."""

from __future__ import annotations

from enum import StrEnum

from domain.errors import ConflictError, DomainError


class ClaimStatus(StrEnum):
    """Where a claim is in its lifecycle."""

    RECEIVED = "received"
    VALIDATING = "validating"
    INVALID = "invalid"
    #: Valid and snapshotted, but its organization has no enabled integration for the payer: it waits for an
    #: operator to submit it (POST /v1/claims/{id}/submit) once one is enabled.
    READY = "ready"
    SUBMITTED = "submitted"
    PENDING = "pending"
    IN_REVIEW = "in_review"
    INFO_REQUESTED = "info_requested"
    APPROVED = "approved"
    PARTIALLY_APPROVED = "partially_approved"
    DENIED = "denied"
    PAID = "paid"
    CLOSED = "closed"
    CANCELLED = "cancelled"
    #: The payer accepted a replacement claim (frequency 7) for it: the replacement carries the claim on.
    REPLACED = "replaced"
    #: The payer accepted a void claim (frequency 8) for it: the claim is withdrawn.
    VOIDED = "voided"


S = ClaimStatus

#: The statuses a claim never leaves.
FINAL: frozenset[ClaimStatus] = frozenset({S.INVALID, S.DENIED, S.CLOSED, S.CANCELLED, S.REPLACED, S.VOIDED})
#: The final statuses a correction or void may start from: the payer adjudicated the claim and its workflow is done.
CORRECTABLE: frozenset[ClaimStatus] = frozenset({S.DENIED, S.CLOSED})

#: Statuses from which a claim may be withdrawn: before the processor has it (received, validating until
#: the submission starts) and once the processor has answered and the claim waits for an adjuster. While
#: the processor adjudicates it, and once approved (payment is on its way), withdrawing is a void claim
#: (frequency code 8), not a cancellation: the processor would still act on the original.
#: The statuses in which a claim is its adjuster's open work: waiting for their decision or for information they asked.
OPEN_WORK: frozenset[ClaimStatus] = frozenset({S.IN_REVIEW, S.INFO_REQUESTED})
CANCELLABLE: frozenset[ClaimStatus] = frozenset({S.RECEIVED, S.VALIDATING, S.READY, S.IN_REVIEW, S.INFO_REQUESTED})
#: Statuses the submission starts from: a claim cancelled there before its submission started was never sent.
BEFORE_SUBMISSION: frozenset[ClaimStatus] = frozenset({S.VALIDATING, S.READY})

#: The one table of allowed moves.
TRANSITIONS: dict[ClaimStatus, frozenset[ClaimStatus]] = {
    S.RECEIVED: frozenset({S.VALIDATING}),
    # in review without being sent: the payer's eligibility answer before submission says the coverage is inactive
    S.VALIDATING: frozenset({S.INVALID, S.READY, S.SUBMITTED, S.IN_REVIEW}),
    S.READY: frozenset({S.SUBMITTED, S.IN_REVIEW}),
    # closed at once: a void claim (frequency 8) the processor accepted has nothing more to wait for
    S.SUBMITTED: frozenset({S.PENDING, S.IN_REVIEW, S.CLOSED}),
    S.PENDING: frozenset({S.APPROVED, S.PARTIALLY_APPROVED, S.DENIED, S.IN_REVIEW}),
    # back to ready: an adjuster approved a claim the risk screen held before submission; it is sent from there
    S.IN_REVIEW: frozenset({S.APPROVED, S.PARTIALLY_APPROVED, S.DENIED, S.INFO_REQUESTED, S.READY}),
    S.INFO_REQUESTED: frozenset({S.IN_REVIEW, S.DENIED}),
    S.APPROVED: frozenset({S.PAID}),
    S.PARTIALLY_APPROVED: frozenset({S.PAID}),
    S.PAID: frozenset({S.CLOSED}),
    S.INVALID: frozenset(),
    # the payer accepted a replacement or void of an adjudicated claim: recorded by the new claim's workflow
    S.DENIED: frozenset({S.REPLACED, S.VOIDED}),
    S.CLOSED: frozenset({S.REPLACED, S.VOIDED}),
    S.CANCELLED: frozenset(),
    S.REPLACED: frozenset(),
    S.VOIDED: frozenset(),
}
for _status in CANCELLABLE:
    TRANSITIONS[_status] = TRANSITIONS[_status] | {S.CANCELLED}


class InvalidTransitionError(DomainError):
    """A move the status machine does not allow."""

    code = "invalid_transition"

    def __init__(self, current: ClaimStatus, target: ClaimStatus) -> None:
        super().__init__(f"a claim that is {current.value} cannot become {target.value}")
        self.current = current
        self.target = target


class NotCancellableError(ConflictError):
    """A claim the processor holds, or that is approved or final, cannot be cancelled."""

    code = "not_cancellable"


def check_cancellable(status: ClaimStatus, *, submission_started: bool) -> None:
    """Raise NotCancellableError unless the claim may be withdrawn now."""
    if is_final(status):
        raise NotCancellableError(f"the claim is {status.value}, which is final; it can no longer change")
    if status not in CANCELLABLE or (status in BEFORE_SUBMISSION and submission_started):
        raise NotCancellableError(
            f"the claim is {status.value} and the processor has it (or payment is on its way): it can no longer "
            "be cancelled; to withdraw it, send a void claim (frequency code 8)"
        )


class InformationNotRequestedError(ConflictError):
    """Information answers only a request for it."""

    code = "information_not_requested"


def check_information_expected(status: ClaimStatus) -> None:
    """Raise InformationNotRequestedError unless the claim waits for the submitter's information."""
    if status is not S.INFO_REQUESTED:
        raise InformationNotRequestedError(
            f"the claim is {status.value}; information is taken only while it is info_requested"
        )


class NotReadyError(ConflictError):
    """Only a claim waiting in `ready` is submitted by an operator."""

    code = "not_ready"


def check_ready(status: ClaimStatus, *, submission_started: bool) -> None:
    """Raise NotReadyError unless the claim waits in `ready` and its submission has not started."""
    if status is not S.READY or submission_started:
        raise NotReadyError(
            f"the claim is {status.value}{' and being submitted' if submission_started else ''}; only a ready claim "
            "(valid, waiting for an enabled integration) is submitted this way, once"
        )


class NotCorrectableError(ConflictError):
    """Only an adjudicated, final claim (closed or denied) is replaced or voided."""

    code = "not_correctable"


def check_correctable(status: ClaimStatus) -> None:
    """Raise NotCorrectableError unless a replacement or void of a claim in this status may be sent."""
    if status not in CORRECTABLE:
        still = "" if is_final(status) else " and its workflow still runs: wait until it is closed or denied"
        raise NotCorrectableError(
            f"the claim is {status.value}{still}; only a closed or denied claim is corrected or voided"
            + (" (correct or void its replacement instead)" if status is S.REPLACED else "")
        )


def can_move(current: ClaimStatus, target: ClaimStatus) -> bool:
    """Whether the status machine allows current -> target."""
    return target in TRANSITIONS[current]


def move(current: ClaimStatus, target: ClaimStatus) -> ClaimStatus:
    """Return target if the move is allowed, else raise InvalidTransitionError."""
    if not can_move(current, target):
        raise InvalidTransitionError(current, target)
    return target


def is_final(status: ClaimStatus) -> bool:
    """Whether a claim in this status will never change again."""
    return status in FINAL
