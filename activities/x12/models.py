"""The answers a clearinghouse sends, read from X12 (999, 277CA/277, 271, 835), as frozen models in our words.

Fields that identify a patient (names, dates of birth, member ids, account numbers, free text) are left out
of every repr, so a model in an error message or a log line shows amounts, codes and positions only.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from domain.adjudication import Category, GroupCode
from domain.claim_status_codes import processor_category
from domain.money import SignedMoney, total


class Answer(BaseModel):
    """Base of the answer models: frozen."""

    model_config = ConfigDict(frozen=True)


# ---------------------------------------------------------------- 999: implementation acknowledgment


class AcknowledgmentCode(StrEnum):
    """IK501 (per transaction set) and AK901 (per functional group)."""

    ACCEPTED = "A"
    ACCEPTED_WITH_ERRORS = "E"
    PARTIALLY_ACCEPTED = "P"  # AK901 only: some transaction sets were rejected
    REJECTED = "R"
    REJECTED_MESSAGE_AUTHENTICATION = "M"
    REJECTED_ASSURANCE = "W"
    REJECTED_DECRYPTION = "X"

    @property
    def accepted(self) -> bool:
        """The receiver took it (maybe with errors, maybe in part)."""
        return self in (
            AcknowledgmentCode.ACCEPTED,
            AcknowledgmentCode.ACCEPTED_WITH_ERRORS,
            AcknowledgmentCode.PARTIALLY_ACCEPTED,
        )


class ElementError(Answer):
    """IK4: an element in error (its position in the segment, its dictionary number, the error code)."""

    position: int
    component_position: int | None = None
    repetition_position: int | None = None
    element_reference: str = ""
    error_code: str
    bad_value: str | None = Field(default=None, repr=False)


class SegmentError(Answer):
    """IK3: a segment in error, where it is in the acknowledged transaction set, and its element errors."""

    segment_id: str
    position: int
    loop_id: str = ""
    error_code: str = ""
    element_errors: list[ElementError] = []


class TransactionSetAcknowledgment(Answer):
    """AK2…IK5: what the receiver said about one transaction set it received."""

    set_code: str
    control_number: str
    implementation_version: str = ""
    status: AcknowledgmentCode
    syntax_error_codes: list[str] = []
    segment_errors: list[SegmentError] = []


class ImplementationAcknowledgment(Answer):
    """A 999 (005010X231A1): the acknowledgment of one functional group and of each transaction set in it."""

    control_number: str
    functional_id_code: str
    group_control_number: str
    group_version: str = ""
    group_status: AcknowledgmentCode
    sets_included: int
    sets_received: int
    sets_accepted: int
    group_error_codes: list[str] = []
    transaction_sets: list[TransactionSetAcknowledgment] = []


# ---------------------------------------------------------------- 277CA and 277: claim status


class ClaimStatusKind(StrEnum):
    """Which 277 this is, from its implementation guide."""

    ACKNOWLEDGMENT = "005010X214"  # 277CA, the answer to an 837 batch
    STATUS_RESPONSE = "005010X212"  # 277, the answer to a 276 status request


class StatusDetail(Answer):
    """One STC status composite: category, status code, entity, with the amounts and dates of its segment."""

    category_code: str
    status_code: str = ""
    entity_code: str = ""
    effective_date: dt.date | None = None
    action_code: str = ""
    total_charge: SignedMoney | None = None
    payment_amount: SignedMoney | None = None
    adjudication_date: dt.date | None = None
    payment_method: str = ""
    check_date: dt.date | None = None
    check_number: str = ""
    message: str | None = Field(default=None, repr=False)

    @property
    def processor_category(self) -> Category | None:
        """claimflow's processor status for this category code (None: the answer says nothing of the claim).

        Raises UnknownCategoryCodeError for a code outside code list 507: the parser keeps what the payer said.
        """
        return processor_category(self.category_code)


class ServiceLineStatus(Answer):
    """2220: the status of one service line (SVC, STC, REF*FJ, DTP*472)."""

    procedure_qualifier: str = ""
    procedure_code: str = ""
    modifiers: list[str] = []
    billed: SignedMoney | None = None
    paid: SignedMoney | None = None
    units: Decimal | None = None
    line_control_number: str = ""
    service_date: dt.date | None = None
    service_date_end: dt.date | None = None
    statuses: list[StatusDetail] = []


class ClaimStatusAnswer(Answer):
    """2200: what the payer or clearinghouse says about one claim."""

    patient_control_number: str = Field(repr=False)
    payer_claim_id: str = ""
    clearinghouse_trace_number: str = ""
    service_date: dt.date | None = None
    service_date_end: dt.date | None = None
    statuses: list[StatusDetail]
    lines: list[ServiceLineStatus] = []
    position: int

    @property
    def status(self) -> StatusDetail:
        """The claim's first (primary) status."""
        return self.statuses[0]


class ClaimStatusReport(Answer):
    """A 277CA or a 277: per claim, its status."""

    kind: ClaimStatusKind
    control_number: str
    reference: str = ""
    created: dt.date | None = None
    payer_name: str = ""
    payer_id: str = ""
    claims: list[ClaimStatusAnswer] = []


# ---------------------------------------------------------------- 271: eligibility


class CoverageStatus(StrEnum):
    """Coverage as the EB01 codes of a 271 describe it."""

    ACTIVE = "active"
    INACTIVE = "inactive"
    UNKNOWN = "unknown"  # rejected (AAA) or no coverage benefit in the answer


class Demographics(Answer):
    """The person as the payer has them (NM1, DMG): for comparing with what was sent, never for logs."""

    last_name: str = Field(default="", repr=False)
    first_name: str = Field(default="", repr=False)
    middle_name: str = Field(default="", repr=False)
    member_id: str = Field(default="", repr=False)
    date_of_birth: dt.date | None = Field(default=None, repr=False)
    sex: str = Field(default="", repr=False)


class Rejection(Answer):
    """AAA: the payer could not answer the request, why and what to do."""

    loop: str
    valid_request: bool
    reason_code: str
    follow_up_action: str = ""
    position: int


class Benefit(Answer):
    """One EB segment: a benefit, a coverage status, an amount or a percent for some service types."""

    information_code: str
    coverage_level: str = ""
    service_types: list[str] = []
    insurance_type: str = ""
    plan_description: str = ""
    time_period: str = ""
    amount: SignedMoney | None = None
    percent: Decimal | None = None
    quantity_qualifier: str = ""
    quantity: Decimal | None = None
    authorization_required: bool | None = None
    in_network: bool | None = None
    messages: list[str] = Field(default=[], repr=False)


class BenefitAmounts(Answer):
    """The money side of coverage for one network: copay, coinsurance, deductible and out-of-pocket."""

    copay: SignedMoney | None = None
    coinsurance_rate: Decimal | None = None
    deductible: SignedMoney | None = None
    deductible_remaining: SignedMoney | None = None
    out_of_pocket: SignedMoney | None = None
    out_of_pocket_remaining: SignedMoney | None = None


class EligibilityAnswer(Answer):
    """A 271 answer about one member (2000C subscriber, or 2000D dependent)."""

    control_number: str
    trace_number: str = ""
    payer_name: str = ""
    payer_id: str = ""
    coverage: CoverageStatus
    subscriber: Demographics
    patient: Demographics | None = None
    group_number: str = ""
    plan_name: str = ""
    plan_begin: dt.date | None = None
    plan_end: dt.date | None = None
    benefits: list[Benefit] = []
    in_network_benefits: BenefitAmounts = BenefitAmounts()
    out_of_network_benefits: BenefitAmounts = BenefitAmounts()
    in_network: bool | None = None
    prior_authorization_required: bool | None = None
    rejections: list[Rejection] = []

    @property
    def active(self) -> bool:
        return self.coverage is CoverageStatus.ACTIVE


# ---------------------------------------------------------------- 835: remittance


class ClaimPaymentStatus(StrEnum):
    """CLP02: how the payer processed the claim."""

    PRIMARY = "1"
    SECONDARY = "2"
    TERTIARY = "3"
    DENIED = "4"
    PRIMARY_FORWARDED = "19"
    SECONDARY_FORWARDED = "20"
    TERTIARY_FORWARDED = "21"
    REVERSAL = "22"
    NOT_OUR_CLAIM_FORWARDED = "23"
    PREDETERMINATION = "25"


class Payment(Answer):
    """BPR and TRN: the money that moved (or not), how, when, under which check or EFT number."""

    handling_code: str
    amount: SignedMoney
    credit_debit: str
    method: str
    date: dt.date | None = None
    trace_number: str
    payer_identifier: str = ""


class RemittanceAdjustment(Answer):
    """One CAS triplet: group (CO/PR/OA/PI), reason (CARC), amount and quantity."""

    group: GroupCode
    reason_code: str
    amount: SignedMoney
    quantity: Decimal | None = None


class ServiceLinePayment(Answer):
    """2110: one service line of a paid claim (SVC, DTM*472, CAS, REF*6R, AMT*B6, LQ)."""

    procedure_qualifier: str
    procedure_code: str
    modifiers: list[str] = []
    billed: SignedMoney
    paid: SignedMoney
    revenue_code: str = ""
    units: Decimal = Decimal(1)
    service_date: dt.date | None = None
    line_control_number: str = ""
    allowed: SignedMoney | None = None
    adjustments: list[RemittanceAdjustment] = []
    remark_codes: list[str] = []
    position: int


class ClaimPayment(Answer):
    """2100: one claim of a remittance (CLP with its CAS, MOA and lines)."""

    patient_control_number: str = Field(repr=False)
    status: ClaimPaymentStatus
    billed: SignedMoney
    paid: SignedMoney
    patient_responsibility: SignedMoney
    filing_indicator: str = ""
    payer_claim_id: str = ""
    facility_code: str = ""
    frequency_code: str = ""
    adjustments: list[RemittanceAdjustment] = []
    remark_codes: list[str] = []
    lines: list[ServiceLinePayment] = []
    position: int

    @property
    def reversal(self) -> bool:
        return self.status is ClaimPaymentStatus.REVERSAL


class ProviderAdjustment(Answer):
    """One PLB adjustment: provider-level money, kept apart from the claims (interest, offsets, forwarding)."""

    provider_id: str
    fiscal_period_date: dt.date | None = None
    reason_code: str
    reference: str = ""
    amount: SignedMoney


class BalanceRule(StrEnum):
    """The 835 balancing rules (005010X221A1 section 1.10.2)."""

    LINE = "line"  # SVC02 - line CAS = SVC03
    CLAIM = "claim"  # CLP03 - claim CAS - line CAS = CLP04
    PAYMENT = "payment"  # BPR02 = sum of CLP04 - sum of PLB amounts


class BalanceFinding(Answer):
    """An 835 that does not balance: which rule, where, what the amounts say and what they add up to."""

    rule: BalanceRule
    position: int
    stated: Decimal
    computed: Decimal

    @property
    def message(self) -> str:
        return f"segment {self.position}: the {self.rule.value} does not balance (stated {self.stated}, computed {self.computed})"


class Remittance(Answer):
    """An 835 (005010X221A1): one payment, its claims, and the provider-level adjustments."""

    control_number: str
    payment: Payment
    production_date: dt.date | None = None
    payer_name: str = ""
    payer_id: str = ""
    payee_name: str = ""
    payee_npi: str = ""
    claims: list[ClaimPayment] = []
    provider_adjustments: list[ProviderAdjustment] = []
    findings: list[BalanceFinding] = []

    @property
    def balanced(self) -> bool:
        return not self.findings

    @property
    def claims_paid(self) -> Decimal:
        return total([claim.paid for claim in self.claims])
