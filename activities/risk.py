"""Activity that screens a claim for risk: the rules of the risk_rule table on the organization's history, and an
optional external scoring service over HTTP (its timeout or failure leaves the rules' score alone)."""

from __future__ import annotations

from typing import Any

import httpx
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio import activity

from activities.contracts import CLAIM_NOT_FOUND, SCREEN_RISK, RiskScreenResult, ScreenRiskInput, business_failure
from db.repositories.risk import RiskSubject
from db.uow import UnitOfWork
from domain.claim import FrequencyCode
from domain.risk import ExternalScore, RiskScore, holds, lookback_days, screen, with_external

#: The organization's latest lines per procedure code the charge-outlier rule compares with.
CHARGE_HISTORY_LINES = 1000
#: How long the external scorer may take before the rules' score is used alone.
EXTERNAL_TIMEOUT_SECONDS = 2.0


class RiskActivities:
    """The screen, given the session factory, an HTTP client for the external scorer and the hold threshold."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        http: httpx.AsyncClient,
        *,
        threshold: int,
        scoring_url: str | None = None,
        scoring_timeout: float = EXTERNAL_TIMEOUT_SECONDS,
    ) -> None:
        self._sessions = sessions
        self._http = http
        self._threshold = threshold
        self._scoring_url = scoring_url or None
        self._scoring_timeout = scoring_timeout

    @activity.defn(name=SCREEN_RISK.name)
    async def screen_claim_risk(self, input: ScreenRiskInput) -> RiskScreenResult:
        """Score the claim's latest snapshot; at or above the threshold it is held for review. A void is not
        screened: it withdraws its original and bills nothing."""
        async with UnitOfWork(self._sessions) as uow:
            subject = await uow.risk.subject(input.claim_id)
            if subject is None:
                raise business_failure(CLAIM_NOT_FOUND, f"claim {input.claim_id} has no snapshot to screen")
            if subject.frequency_code is FrequencyCode.VOID or not subject.lines:
                return RiskScreenResult(score=0, threshold=self._threshold, held=False)
            rules = await uow.risk.rules()
            history = await uow.risk.history(
                subject, lookback_days=lookback_days(rules), charge_lines=CHARGE_HISTORY_LINES
            )
            same_day = {line.service_date for line in subject.lines}
            codes = {line.procedure_code for line in subject.lines} | {
                line.procedure_code
                for prior in history.prior_claims
                for line in prior.lines
                if line.service_date in same_day
            }
            pairs = await uow.risk.pairs(codes)
        score = screen(subject.lines, history, rules, pairs)  # the transaction is closed before any HTTP call
        if self._scoring_url is not None:
            score = with_external(score, await self._external(subject, score))
        held = holds(score, self._threshold)
        activity.logger.info(
            "claim.risk_screened",
            extra={
                "claim_id": input.claim_id,
                "stage": input.stage,
                "score": score.score,
                "held": held,
                "rules": [reason.rule_id for reason in score.reasons],
            },
        )
        return RiskScreenResult(score=score.score, reasons=score.reasons, threshold=self._threshold, held=held)

    async def _external(self, subject: RiskSubject, rules: RiskScore) -> ExternalScore | None:
        """The external scorer's answer, or None when it did not give one in time (or gave a wrong one). It is sent
        codes, charges and the rules' findings only: no patient, no member id, no dates."""
        assert self._scoring_url is not None
        body: dict[str, Any] = {
            "claim_id": subject.claim_id,
            "org_id": subject.org_id,
            "payer_id": subject.payer_id,
            "lines": [
                {
                    "procedure_code": line.procedure_code,
                    "modifiers": line.modifiers,
                    "charge": str(line.charge),
                    "units": line.units,
                }
                for line in subject.lines
            ],
            "rules_score": rules.score,
            "rules_fired": [reason.rule_id for reason in rules.reasons],
        }
        try:
            response = await self._http.post(self._scoring_url, json=body, timeout=self._scoring_timeout)
            response.raise_for_status()
            return ExternalScore.model_validate(response.json())
        except (httpx.HTTPError, ValidationError, ValueError) as exc:
            activity.logger.warning(
                "claim.risk_external_unavailable", extra={"claim_id": subject.claim_id, "error": type(exc).__name__}
            )
            return None
