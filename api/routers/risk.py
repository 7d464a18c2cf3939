"""/v1/risk/rules: the risk screen's rules, read and edited by admins."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Response, status

from api.deps import Admin, ContextDep
from api.schemas.risk import RiskRuleList, RiskRulePut, RiskRuleRead
from domain.risk import RULE_ID, RiskRule
from services import risk

router = APIRouter(prefix="/v1/risk", tags=["risk"])
RuleId = Annotated[str, Path(min_length=1, max_length=40, pattern=f"^{RULE_ID.pattern}$")]

PROBLEMS: dict[int | str, dict[str, object]] = {
    401: {"description": "No or an invalid bearer token"},
    403: {"description": "Admins only"},
}


def _read(rule: RiskRule) -> RiskRuleRead:
    return RiskRuleRead.model_validate(rule.model_dump())


@router.get("/rules", response_model=RiskRuleList, responses=PROBLEMS)
async def list_rules(principal: Admin, context: ContextDep) -> RiskRuleList:
    """Every rule of the risk screen, enabled or not. Audited."""
    return RiskRuleList(data=[_read(rule) for rule in await risk.list_rules(context, principal)])


@router.put(
    "/rules/{rule_id}",
    response_model=RiskRuleRead,
    responses={**PROBLEMS, 201: {"description": "A new rule", "model": RiskRuleRead}, 422: {}},
)
async def put_rule(
    rule_id: RuleId, body: RiskRulePut, principal: Admin, context: ContextDep, response: Response
) -> RiskRuleRead:
    """Replace a rule (or add one under a new id): kind, parameters, weight, enabled. A parameter that does not fit
    the kind is refused with 422 naming it (params.<name>). Claims screened from then on use it. Audited."""
    rule, created = await risk.put_rule(context, principal, rule_id, **body.model_dump())
    if created:
        response.status_code = status.HTTP_201_CREATED
    return _read(rule)
