"""Adjuster and assignment-rule use cases (admins): keep the adjusters, set new versions of the ordered rules.

Every change is audited in the transaction that makes it: who, which fields, their values before and after
(adjuster data is not patient data).
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterable
from datetime import UTC, datetime
from enum import Enum
from typing import Any

from pydantic import BaseModel

from db.uow import UnitOfWork
from domain.assignment import Adjuster, AdjusterStatus, AssignmentRule, RuleSet, status_flags
from domain.errors import ConflictError, DomainError
from domain.status import OPEN_WORK
from services.access import Principal
from services.claims import reassign
from services.context import ServiceContext
from services.errors import InvalidFieldError, NotFoundError

#: Fields an admin may change on an adjuster (`status` is stored as its active and away flags).
CHANGEABLE = (
    "name",
    "payer_ids",
    "claim_kinds",
    "org_ids",
    "authority_limit",
    "capacity",
    "status",
    "supervisor",
    "team",
    "email",
)
#: Fields that may be left out of a change but not set to null.
REQUIRED = frozenset(CHANGEABLE) - {"team", "email"}


class AdjusterExistsError(ConflictError):
    """An adjuster of that id exists already."""

    code = "adjuster_exists"


def view(adjuster: Adjuster) -> dict[str, Any]:
    """An adjuster as the API and the audit show it: its status instead of the flags that store it."""
    shown = adjuster.model_dump(mode="json", exclude={"active", "away"})
    return {**shown, "status": adjuster.status.value}


async def list_adjusters(context: ServiceContext) -> list[Adjuster]:
    """Every adjuster, whatever its status, by id."""
    async with UnitOfWork(context.sessions) as uow:
        return await uow.adjusters.every()


async def get_adjuster(context: ServiceContext, adjuster_id: str) -> Adjuster:
    async with UnitOfWork(context.sessions) as uow:
        found = await uow.adjusters.get(adjuster_id)
    if found is None:
        raise NotFoundError(f"no adjuster {adjuster_id}")
    return found


async def create_adjuster(context: ServiceContext, principal: Principal, adjuster: Adjuster) -> Adjuster:
    """Add an adjuster; its payer skills must name known payers."""
    async with UnitOfWork(context.sessions) as uow:
        await _check_payers(uow, adjuster.payer_ids, "payer_ids")
        if not await uow.adjusters.add(adjuster):
            raise AdjusterExistsError(
                f"an adjuster {adjuster.adjuster_id} exists already; change it with "
                f"PATCH /v1/adjusters/{adjuster.adjuster_id}"
            )
        await _audit(uow, principal, "adjuster.created", {"adjuster_id": adjuster.adjuster_id, "after": view(adjuster)})
        await uow.commit()
    return adjuster


async def update_adjuster(
    context: ServiceContext, principal: Principal, adjuster_id: str, changes: dict[str, Any]
) -> Adjuster:
    """Change the fields in `changes`; audited with each changed field's value before and after."""
    changes = {name: value for name, value in changes.items() if name in CHANGEABLE}
    for name in sorted(REQUIRED & changes.keys()):
        if changes[name] is None:
            raise InvalidFieldError(
                f"{name} may be left out but not set to null", path=name, problem="null", rule="adjuster.required"
            )
    async with UnitOfWork(context.sessions) as uow:
        before = await uow.adjusters.get(adjuster_id, for_update=True)
        if before is None:
            raise NotFoundError(f"no adjuster {adjuster_id}")
        if "payer_ids" in changes:
            await _check_payers(uow, changes["payer_ids"], "payer_ids")
        values = {name: _stored(value) for name, value in changes.items() if name != "status"}
        if "status" in changes:
            values |= status_flags(AdjusterStatus(changes["status"]))
        after = await uow.adjusters.change(adjuster_id, values)
        assert after is not None
        old, new = view(before), view(after)
        changed = sorted(name for name in old if old[name] != new[name])
        details = {
            "adjuster_id": adjuster_id,
            "fields": changed,
            "before": {name: old[name] for name in changed},
            "after": {name: new[name] for name in changed},
        }
        await _audit(uow, principal, "adjuster.updated", details)
        await uow.commit()
    return after


#: Reassignments a handover sends at once (each waits for its claim's workflow to apply it).
HANDOVERS_AT_ONCE = 8


class Handover(BaseModel):
    """What became of an away (or inactive) adjuster's open claims: reassigned by the rules, or not and why."""

    reassigned: dict[str, str] = {}  # claim id -> the new assignee
    not_reassigned: dict[str, str] = {}  # claim id -> why (a rule's code)


async def hand_over(context: ServiceContext, principal: Principal, adjuster: Adjuster) -> Handover:
    """Reassign by the rules every claim in review or waiting for information that an adjuster who is no longer
    active (away or inactive) holds, each as a signed reassignment with a reason; a claim that cannot move now (no
    one else eligible, or it moved meanwhile) stays and is listed."""
    handover = Handover()
    if adjuster.status is AdjusterStatus.ACTIVE:
        return handover
    async with UnitOfWork(context.sessions) as uow:
        claim_ids = await uow.adjusters.open_claims_of(adjuster.adjuster_id, statuses=OPEN_WORK)
    reason = f"{adjuster.adjuster_id} is {adjuster.status.value}: their open claims are handed over by the rules"
    at_once = asyncio.Semaphore(HANDOVERS_AT_ONCE)

    async def hand(claim_id: str) -> None:
        async with at_once:
            try:
                result = await reassign(context, principal, claim_id, None, reason)
            except DomainError as exc:
                handover.not_reassigned[claim_id] = exc.code
                return
        handover.reassigned[claim_id] = result.assigned_adjuster or ""

    await asyncio.gather(*(hand(claim_id) for claim_id in claim_ids))
    return handover


async def open_claims_of(context: ServiceContext, adjuster_id: str) -> list[str]:
    """The ids of the claims on an adjuster's desk (in review, waiting for information, or on their way into
    review), oldest first: what a reassignment of an away adjuster's work starts from."""
    async with UnitOfWork(context.sessions) as uow:
        return await uow.adjusters.open_claims_of(adjuster_id)


async def current_rules(context: ServiceContext) -> RuleSet:
    """The assignment rules in force: the newest version."""
    async with UnitOfWork(context.sessions) as uow:
        rules = await uow.adjusters.current_rules()
    if rules is None:
        raise NotFoundError("no assignment rules yet: `claimflow migrate` seeds version 1")
    return rules


async def rules_version(context: ServiceContext, version: int) -> RuleSet:
    async with UnitOfWork(context.sessions) as uow:
        rules = await uow.adjusters.rules_version(version)
    if rules is None:
        raise NotFoundError(f"no version {version} of the assignment rules")
    return rules


async def set_rules(context: ServiceContext, principal: Principal, rules: list[AssignmentRule]) -> RuleSet:
    """A new version of the ordered rules, in force for the next assignment; earlier versions stay."""
    seen: set[str] = set()
    for index, rule in enumerate(rules):
        if rule.rule_id in seen:
            raise InvalidFieldError(
                f"rule id {rule.rule_id} appears twice",
                path=f"rules[{index}].rule_id",
                problem="rule ids are unique within a version",
                rule="assignment_rule.unique_id",
            )
        seen.add(rule.rule_id)
    async with UnitOfWork(context.sessions) as uow:
        for index, rule in enumerate(rules):
            await _check_payers(uow, rule.match.payer_ids, f"rules[{index}].match.payer_ids")
        created = await uow.adjusters.add_rules(rules, principal.label)
        details = {
            "version": created.version,
            "rules": [rule.model_dump(mode="json") for rule in rules],
        }
        await _audit(uow, principal, "assignment_rules.set", details)
        await uow.commit()
    return created


async def _check_payers(uow: UnitOfWork, payer_ids: Iterable[str], path: str) -> None:
    known = {payer.payer_id for payer in await uow.reference.payers()}
    for index, payer_id in enumerate(payer_ids):
        if payer_id not in known:
            raise InvalidFieldError(
                f"{path}[{index}]: no payer {payer_id}",
                path=f"{path}[{index}]",
                problem=f"not a known payer id (known: {', '.join(sorted(known))})",
                rule="payer.exists",
            )


def _stored(value: Any) -> Any:
    """A value as its column keeps it: enums by their value (lists of them too)."""
    if isinstance(value, list):
        return [_stored(item) for item in value]
    return value.value if isinstance(value, Enum) else value


async def _audit(uow: UnitOfWork, principal: Principal, action: str, details: dict[str, Any]) -> None:
    await uow.audit.append(
        claim_id=None,
        actor=principal.label,
        action=action,
        at=datetime.now(UTC),
        details=details,
        event_key=f"{action}-{uuid.uuid4().hex}",
    )
