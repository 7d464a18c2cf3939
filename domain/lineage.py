"""Claim lineage: a replacement (frequency 7) or void (frequency 8) and the original claim it names."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict

from domain.claim import Claim, FrequencyCode
from domain.errors import RefusedError
from domain.ledger import LedgerSource, PaymentAnswer
from domain.status import ClaimStatus


class LineageKind(StrEnum):
    """How a claim relates to the original it names by payer claim id."""

    REPLACES = "replaces"  # frequency 7: a corrected claim that takes the original's place
    VOIDS = "voids"  # frequency 8: withdraws the original


#: The status the original takes once the payer accepts the new claim.
OUTCOME: dict[LineageKind, ClaimStatus] = {
    LineageKind.REPLACES: ClaimStatus.REPLACED,
    LineageKind.VOIDS: ClaimStatus.VOIDED,
}


def kind_of(frequency: FrequencyCode) -> LineageKind | None:
    """The link a claim of this frequency makes to its original; None for an original claim."""
    match frequency:
        case FrequencyCode.REPLACEMENT:
            return LineageKind.REPLACES
        case FrequencyCode.VOID:
            return LineageKind.VOIDS
        case _:
            return None


class PayerMismatchError(RefusedError):
    """A replacement goes to the payer that adjudicated the original."""

    code = "correction_payer_mismatch"


def replacement(body: Claim, original: Claim, original_payer_claim_id: str) -> Claim:
    """The corrected claim as sent: the body, frequency 7, naming the original's payer claim id (REF*F8)."""
    if body.insurance.payer_id.upper() != original.insurance.payer_id.upper():
        raise PayerMismatchError(
            f"insurance.payer_id: a corrected claim goes to the original's payer {original.insurance.payer_id}, "
            f"not {body.insurance.payer_id}; send a new claim (frequency 1) to another payer"
        )
    return body.model_copy(
        update={"frequency_code": FrequencyCode.REPLACEMENT, "original_payer_claim_id": original_payer_claim_id}
    )


def void_of(original: Claim, original_payer_claim_id: str) -> Claim:
    """The void claim: the original's content, frequency 8, naming its payer claim id (REF*F8)."""
    return original.model_copy(
        update={"frequency_code": FrequencyCode.VOID, "original_payer_claim_id": original_payer_claim_id}
    )


def void_reversal(void_claim_id: str, original_payer_claim_id: str, at: datetime) -> PaymentAnswer:
    """The ledger answer that backs out whatever stands on the original once its void is accepted: no lines of its
    own, so it posts only the reversal of the standing answers; its id (the void claim's) posts it once."""
    return PaymentAnswer(
        remittance_id=f"void:{void_claim_id}",
        source=LedgerSource.PROCESSOR,
        at=at,
        payer_claim_id=original_payer_claim_id,
        replaces_standing=True,
    )


class Lineage(BaseModel):
    """A claim's links both ways: the original it replaces or voids, and the claims that replace or void it."""

    model_config = ConfigDict(frozen=True)

    replaces: str | None = None
    replaced_by: list[str] = []
    voids: str | None = None
    voided_by: list[str] = []


def lineage_of(
    frequency: FrequencyCode, original_claim_id: str | None, successors: list[tuple[str, FrequencyCode]]
) -> Lineage:
    """The links of a claim of this frequency naming `original_claim_id`, with the claims naming it (id, frequency),
    oldest first."""
    kind = kind_of(frequency) if original_claim_id else None
    return Lineage(
        replaces=original_claim_id if kind is LineageKind.REPLACES else None,
        voids=original_claim_id if kind is LineageKind.VOIDS else None,
        replaced_by=[cid for cid, f in successors if kind_of(f) is LineageKind.REPLACES],
        voided_by=[cid for cid, f in successors if kind_of(f) is LineageKind.VOIDS],
    )
