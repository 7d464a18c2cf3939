"""Risk-screen use cases (admins): list the rules, and put one (its parameters checked against its kind); audited."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from db.uow import UnitOfWork
from domain.risk import RULE_ID, RiskParamsError, RiskRule, RiskRuleKind, parse_params
from services.access import Principal
from services.context import ServiceContext
from services.errors import InvalidFieldError


async def list_rules(context: ServiceContext, principal: Principal) -> list[RiskRule]:
    """Every rule, enabled or not, by id; the listing is audited."""
    async with UnitOfWork(context.sessions) as uow:
        rules = await uow.risk.rules()
        await _audit(uow, principal, "risk_rules.list", {"count": len(rules)})
        await uow.commit()
    return rules


async def put_rule(
    context: ServiceContext,
    principal: Principal,
    rule_id: str,
    *,
    kind: RiskRuleKind,
    params: dict[str, Any],
    weight: int,
    enabled: bool,
    description: str,
) -> tuple[RiskRule, bool]:
    """Replace the rule (or add it under a new id) with its parameters checked and their defaults filled in; the
    rule and whether it is new. A bad parameter is refused naming it (params.<name>). Audited with what was set."""
    if RULE_ID.fullmatch(rule_id) is None:
        raise InvalidFieldError(
            f"rule_id {rule_id!r} is not an id",
            path="rule_id",
            problem="1-40 lower-case letters, digits, '.', '_' or '-', starting with a letter or digit",
            rule="risk_rule.id",
        )
    try:
        checked = parse_params(kind, params)
    except RiskParamsError as exc:
        raise InvalidFieldError(
            f"{exc.path} does not fit a {kind.value} rule: {exc.problem}",
            path=exc.path,
            problem=exc.problem,
            rule=f"risk_rule.{kind.value}",
        ) from None
    rule = RiskRule(
        rule_id=rule_id,
        kind=kind,
        params=checked.model_dump(mode="json"),
        weight=weight,
        enabled=enabled,
        description=description,
    )
    async with UnitOfWork(context.sessions) as uow:
        created = await uow.risk.put_rule(rule)
        await _audit(
            uow, principal, "risk_rule.created" if created else "risk_rule.updated", rule.model_dump(mode="json")
        )
        await uow.commit()
    return rule, created


async def _audit(uow: UnitOfWork, principal: Principal, action: str, details: dict[str, Any]) -> None:
    """One audit row in the change's own transaction: the change and its record land together."""
    await uow.audit.append(
        claim_id=None,
        actor=principal.label,
        action=action,
        at=datetime.now(UTC),
        details=details,
        event_key=f"{action}-{uuid.uuid4().hex}",
    )
