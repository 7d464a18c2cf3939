"""The risk screen: fraud and abuse rules as data, scored on one claim against its organization's history (pure).

A screen adds the weights of the enabled rules that fired (0-100) and says why in reasons that carry codes,
counts and charges only — never a patient's name or member id. The score sends a claim to review; it never
denies one.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Sequence
from datetime import date, timedelta
from decimal import Decimal
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from domain.edit_tables import PTP_BYPASS_MODIFIERS, EditTables, ModifierIndicator, edit_key

MAX_SCORE = 100
#: A rule's id: lower-case letters, digits, '.', '_' or '-', starting with a letter or digit.
RULE_ID = re.compile(r"[a-z0-9][a-z0-9._-]{0,39}")
#: The reason of an external score, and of its absence (neither is a rule of the table).
EXTERNAL_REASON = "external"
EXTERNAL_UNAVAILABLE_REASON = "external_unavailable"
#: The codes an external scorer may give as its reasons (anything else is dropped: it could carry free text).
EXTERNAL_CODE = re.compile(r"[A-Za-z0-9._-]{1,40}")


class RiskRuleKind(StrEnum):
    """What a risk rule looks for."""

    EXACT_DUPLICATE = "exact_duplicate"
    NEAR_DUPLICATE = "near_duplicate"
    FREQUENCY_LIMIT = "frequency_limit"
    CHARGE_OUTLIER = "charge_outlier"
    UNBUNDLING = "unbundling"


class RiskParams(BaseModel):
    """Base of each kind's parameters: unknown names are refused."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class ExactDuplicateParams(RiskParams):
    """None: the same payer, patient, service dates, procedure codes and charges as an earlier claim."""


class NearDuplicateParams(RiskParams):
    """A line repeats an earlier claim's procedure for the patient within `window_days` of its service date, at a
    charge within `charge_tolerance_percent` of it (exact duplicates of a whole claim are the other rule's)."""

    window_days: int = Field(default=7, ge=0, le=365)
    charge_tolerance_percent: float = Field(default=10.0, ge=0, le=100)


class FrequencyLimitParams(RiskParams):
    """More than `max_count` services of one procedure code for the patient within any `window_days` days."""

    max_count: int = Field(default=3, ge=1, le=1000)
    window_days: int = Field(default=30, ge=1, le=3650)


class ChargeOutlierParams(RiskParams):
    """A line's charge above the `percentile` of the organization's earlier charges for its code, or more than
    `median_multiple` times their median, once there are at least `min_history` of them (null turns a test off)."""

    percentile: int | None = Field(default=99, ge=50, le=99)
    median_multiple: float | None = Field(default=3.0, gt=1, le=100)
    min_history: int = Field(default=20, ge=1, le=100_000)

    @model_validator(mode="after")
    def _one_test_at_least(self) -> ChargeOutlierParams:
        if self.percentile is None and self.median_multiple is None:
            raise ValueError("set percentile or median_multiple (or both)")
        return self


class UnbundlingParams(RiskParams):
    """Codes of an NCCI procedure-to-procedure pair billed for the patient on one day: split across the claim and
    an earlier one (`across_claims`), or on this claim and let through by a bypass modifier (`modifier_bypass`)."""

    across_claims: bool = True
    modifier_bypass: bool = True


PARAMS: dict[RiskRuleKind, type[RiskParams]] = {
    RiskRuleKind.EXACT_DUPLICATE: ExactDuplicateParams,
    RiskRuleKind.NEAR_DUPLICATE: NearDuplicateParams,
    RiskRuleKind.FREQUENCY_LIMIT: FrequencyLimitParams,
    RiskRuleKind.CHARGE_OUTLIER: ChargeOutlierParams,
    RiskRuleKind.UNBUNDLING: UnbundlingParams,
}


class RiskParamsError(ValueError):
    """A rule's parameter is wrong: `path` names it (params.<name>), `problem` says what is expected."""

    def __init__(self, path: str, problem: str) -> None:
        super().__init__(f"{path}: {problem}")
        self.path = path
        self.problem = problem


def parse_params(kind: RiskRuleKind, params: dict[str, Any]) -> RiskParams:
    """The parameters of a rule of `kind`, checked (defaults filled in); RiskParamsError names the first bad one."""
    try:
        return PARAMS[kind].model_validate(params)
    except ValidationError as exc:
        error = exc.errors()[0]
        where = ".".join(str(part) for part in error["loc"])
        raise RiskParamsError(f"params.{where}" if where else "params", error["msg"]) from None


class RiskRule(BaseModel):
    """One rule of the screen, as stored and edited: `weight` is added to the score when it fires."""

    model_config = ConfigDict(frozen=True)

    rule_id: str = Field(pattern=f"^{RULE_ID.pattern}$")
    kind: RiskRuleKind
    params: dict[str, Any] = {}
    weight: int = Field(ge=0, le=MAX_SCORE)
    enabled: bool = True
    description: str = Field(default="", max_length=200)

    @model_validator(mode="after")
    def _params_fit_the_kind(self) -> RiskRule:
        parse_params(self.kind, self.params)
        return self


class RiskLine(BaseModel):
    """One billed line as the screen sees it: code, modifiers, charge, units and service date."""

    model_config = ConfigDict(frozen=True)

    line_number: int
    procedure_code: str
    modifiers: list[str] = []
    charge: Decimal
    units: int = 1
    service_date: date


class PriorClaim(BaseModel):
    """An earlier accepted claim of the organization for the same patient and payer."""

    model_config = ConfigDict(frozen=True)

    claim_id: str
    lines: list[RiskLine]


class RiskHistory(BaseModel):
    """What the screen compares a claim with: the patient's earlier claims (same organization and payer) and the
    organization's earlier charges per procedure code (edit_key of the code)."""

    model_config = ConfigDict(frozen=True)

    prior_claims: list[PriorClaim] = []
    prior_charges: dict[str, list[Decimal]] = {}


class RiskReason(BaseModel):
    """Why the score rose: the rule, its weight, and a message of codes, counts and charges (no PHI)."""

    model_config = ConfigDict(frozen=True)

    rule_id: str
    weight: int
    message: str


class RiskScore(BaseModel):
    """A screen's outcome: 0-100 and the reasons behind it."""

    model_config = ConfigDict(frozen=True)

    score: int = Field(ge=0, le=MAX_SCORE)
    reasons: list[RiskReason] = []


class ExternalScore(BaseModel):
    """An external scoring service's answer: a score 0-100 and its reason codes."""

    model_config = ConfigDict(frozen=True)

    score: int = Field(ge=0, le=MAX_SCORE)
    reasons: list[str] = []


Check = Callable[[RiskParams, Sequence[RiskLine], RiskHistory, EditTables], str | None]


def screen(lines: Sequence[RiskLine], history: RiskHistory, rules: Sequence[RiskRule], pairs: EditTables) -> RiskScore:
    """Score a claim's lines by every enabled rule: the sum of the weights of those that fired, at most 100."""
    reasons: list[RiskReason] = []
    for rule in rules:
        if not rule.enabled:
            continue
        message = CHECKS[rule.kind](parse_params(rule.kind, rule.params), lines, history, pairs)
        if message is not None:
            reasons.append(RiskReason(rule_id=rule.rule_id, weight=rule.weight, message=message))
    return RiskScore(score=min(MAX_SCORE, sum(reason.weight for reason in reasons)), reasons=reasons)


def with_external(rules: RiskScore, external: ExternalScore | None) -> RiskScore:
    """The rules' score combined with an external one (the higher counts); without one, the rules' score alone and
    a reason saying the external score was unavailable."""
    if external is None:
        unavailable = RiskReason(
            rule_id=EXTERNAL_UNAVAILABLE_REASON,
            weight=0,
            message="the external risk score was unavailable; the rules' score stands alone",
        )
        return RiskScore(score=rules.score, reasons=[*rules.reasons, unavailable])
    codes = [code for code in external.reasons if EXTERNAL_CODE.fullmatch(code)][:10]
    said = f"external risk score {external.score}" + (f" ({', '.join(codes)})" if codes else "")
    reason = RiskReason(rule_id=EXTERNAL_REASON, weight=external.score, message=said)
    return RiskScore(score=max(rules.score, external.score), reasons=[*rules.reasons, reason])


def lookback_days(rules: Sequence[RiskRule]) -> int:
    """How many days before a claim's first service date its history must reach for the enabled rules."""
    days = [0]
    for rule in rules:
        params = parse_params(rule.kind, rule.params) if rule.enabled else None
        if isinstance(params, NearDuplicateParams | FrequencyLimitParams):
            days.append(params.window_days)
    return max(days)


def holds(score: RiskScore, threshold: int) -> bool:
    """Whether the score sends the claim to review: at or above the threshold."""
    return score.score >= threshold


def percentile(values: Sequence[Decimal], p: float) -> Decimal:
    """The p-th percentile (0-100) of non-empty values, interpolated between the two nearest ranks."""
    ordered = sorted(values)
    rank = Decimal(str(p)) / 100 * (len(ordered) - 1)
    low = int(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


# ---- the checks: each returns its message when the rule fires, else None ----------------------


def _codes(codes: set[str]) -> str:
    return ", ".join(sorted(codes))


def _signature(lines: Sequence[RiskLine]) -> Counter[tuple[str, date, Decimal]]:
    return Counter((edit_key(line.procedure_code), line.service_date, line.charge) for line in lines)


def _exact_duplicates(lines: Sequence[RiskLine], history: RiskHistory) -> list[str]:
    mine = _signature(lines)
    return [prior.claim_id for prior in history.prior_claims if _signature(prior.lines) == mine]


def exact_duplicate(params: RiskParams, lines: Sequence[RiskLine], history: RiskHistory, _: EditTables) -> str | None:
    earlier = _exact_duplicates(lines, history)
    if not earlier:
        return None
    codes = _codes({edit_key(line.procedure_code) for line in lines})
    return (
        f"same payer, patient, service dates, procedure codes ({codes}) and charges as earlier claim "
        f"{earlier[0]}" + (f" and {len(earlier) - 1} more" if len(earlier) > 1 else "")
    )


def near_duplicate(params: RiskParams, lines: Sequence[RiskLine], history: RiskHistory, _: EditTables) -> str | None:
    assert isinstance(params, NearDuplicateParams)
    exact = set(_exact_duplicates(lines, history))
    window = timedelta(days=params.window_days)
    tolerance = Decimal(str(params.charge_tolerance_percent)) / 100
    codes: set[str] = set()
    claims: set[str] = set()
    for line in lines:
        code = edit_key(line.procedure_code)
        for prior in history.prior_claims:
            if prior.claim_id in exact:
                continue
            for before in prior.lines:
                if (
                    edit_key(before.procedure_code) == code
                    and abs(before.service_date - line.service_date) <= window
                    and abs(before.charge - line.charge) <= tolerance * max(line.charge, before.charge)
                ):
                    codes.add(code)
                    claims.add(prior.claim_id)
    if not codes:
        return None
    return (
        f"procedure {_codes(codes)} billed for the patient on {len(claims)} earlier claim{_s(len(claims))} "
        f"within {params.window_days} days at a charge within {params.charge_tolerance_percent:g}%"
    )


def frequency_limit(params: RiskParams, lines: Sequence[RiskLine], history: RiskHistory, _: EditTables) -> str | None:
    assert isinstance(params, FrequencyLimitParams)
    span = timedelta(days=params.window_days - 1)
    dates: dict[str, list[date]] = {}
    for line in [*lines, *(before for prior in history.prior_claims for before in prior.lines)]:
        dates.setdefault(edit_key(line.procedure_code), []).append(line.service_date)
    over: dict[str, int] = {}
    for line in lines:
        code = edit_key(line.procedure_code)
        days = dates[code]
        for start in (day for day in days if line.service_date - span <= day <= line.service_date):
            count = sum(1 for day in days if start <= day <= start + span)
            if count > params.max_count:
                over[code] = max(over.get(code, 0), count)
    if not over:
        return None
    found = ", ".join(f"{code} {count} times" for code, count in sorted(over.items()))
    return f"billed for the patient more than {params.max_count} times in {params.window_days} days: {found}"


def charge_outlier(params: RiskParams, lines: Sequence[RiskLine], history: RiskHistory, _: EditTables) -> str | None:
    assert isinstance(params, ChargeOutlierParams)
    found: list[str] = []
    for line in lines:
        code = edit_key(line.procedure_code)
        charges = history.prior_charges.get(code, [])
        if len(charges) < params.min_history:
            continue
        if params.percentile is not None and line.charge > (limit := percentile(charges, params.percentile)):
            found.append(f"{code} {line.charge:.2f} above p{params.percentile} {limit:.2f}")
        elif params.median_multiple is not None and line.charge > (
            limit := percentile(charges, 50) * Decimal(str(params.median_multiple))
        ):
            found.append(f"{code} {line.charge:.2f} above {params.median_multiple:g}x the median ({limit:.2f})")
        else:
            continue
        found[-1] += f" of {len(charges)} earlier lines"
    if not found:
        return None
    return "charge above the organization's history: " + "; ".join(found)


def unbundling(params: RiskParams, lines: Sequence[RiskLine], history: RiskHistory, pairs: EditTables) -> str | None:
    assert isinstance(params, UnbundlingParams)
    found: list[str] = []
    if params.modifier_bypass:
        for first in lines:
            for second in lines:
                if first is second or first.service_date != second.service_date:
                    continue
                pair = pairs.ptp(first.procedure_code, second.procedure_code, first.service_date)
                allowed = pair is not None and pair.modifier_indicator is ModifierIndicator.ALLOWED
                if pair is not None and allowed and _bypassed(first, second):
                    found.append(f"{pair.column1}+{pair.column2} on this claim with a bypass modifier")
    if params.across_claims:
        for line in lines:
            for prior in history.prior_claims:
                for before in prior.lines:
                    if before.service_date != line.service_date:
                        continue
                    pair = pairs.ptp(before.procedure_code, line.procedure_code, line.service_date) or pairs.ptp(
                        line.procedure_code, before.procedure_code, line.service_date
                    )
                    if pair is not None:
                        found.append(f"{pair.column1}+{pair.column2} split with earlier claim {prior.claim_id}")
    if not found:
        return None
    return "NCCI procedure-to-procedure pair billed on one day: " + "; ".join(dict.fromkeys(found))


def _bypassed(*lines: RiskLine) -> bool:
    return any(modifier.upper() in PTP_BYPASS_MODIFIERS for line in lines for modifier in line.modifiers)


def _s(count: int) -> str:
    return "" if count == 1 else "s"


CHECKS: dict[RiskRuleKind, Check] = {
    RiskRuleKind.EXACT_DUPLICATE: exact_duplicate,
    RiskRuleKind.NEAR_DUPLICATE: near_duplicate,
    RiskRuleKind.FREQUENCY_LIMIT: frequency_limit,
    RiskRuleKind.CHARGE_OUTLIER: charge_outlier,
    RiskRuleKind.UNBUNDLING: unbundling,
}
