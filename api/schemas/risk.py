"""Request and response bodies of /v1/risk: the risk screen's rules, and a claim's risk as the adjuster sees it."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from domain.risk import MAX_SCORE, RiskRuleKind


class RiskReasonRead(BaseModel):
    """Why a claim's risk score rose: the rule, its weight and what it found (codes, counts, charges; no PHI)."""

    rule_id: str
    weight: int
    message: str


class RiskRuleRead(BaseModel):
    """A rule of the risk screen."""

    rule_id: str
    kind: RiskRuleKind
    params: dict[str, Any]
    weight: int
    enabled: bool
    description: str


class RiskRuleList(BaseModel):
    data: list[RiskRuleRead]


class RiskRulePut(BaseModel):
    """A rule's full definition (PUT replaces it, or adds it under a new id). `params` are checked against `kind`:
    exact_duplicate {}; near_duplicate {window_days, charge_tolerance_percent}; frequency_limit {max_count,
    window_days}; charge_outlier {percentile, median_multiple, min_history}; unbundling {across_claims,
    modifier_bypass}. Left-out parameters take their defaults."""

    model_config = ConfigDict(extra="forbid")

    kind: RiskRuleKind
    params: dict[str, Any] = {}
    weight: int = Field(ge=0, le=MAX_SCORE)
    enabled: bool = True
    description: str = Field(default="", max_length=200)
