"""RiskRepository: the risk screen's rules, and a claim's history in its organization (earlier claims and charges)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, and_, func, literal_column, select, tuple_
from sqlalchemy.dialects.postgresql import insert

from db.models import ClaimRegister, ClaimTestRelation, InsuranceClaim, NcciPtpEdit, RiskRuleRow
from db.repositories.base import Repository
from db.repositories.snapshots import NOT_ACCEPTED
from domain.claim import FrequencyCode
from domain.edit_tables import EditTables, ModifierIndicator, PtpEdit, edit_key
from domain.risk import PriorClaim, RiskHistory, RiskLine, RiskRule, RiskRuleKind
from domain.status import ClaimStatus

#: Register statuses of claims that are no history to compare with: never accepted, or replaced or voided since.
NOT_HISTORY = [s.value for s in (*NOT_ACCEPTED, ClaimStatus.REPLACED, ClaimStatus.VOIDED)]


@dataclass(frozen=True)
class RiskSubject:
    """The claim a screen scores, as its latest snapshot holds it. The patient's member id stays in the activity:
    it only selects the history and never leaves the worker."""

    claim_id: str
    org_id: str
    received_at: datetime
    payer_id: str
    patient_member_id: str
    frequency_code: FrequencyCode
    replaces_claim_id: str | None
    lines: list[RiskLine]


def to_rule(row: RiskRuleRow) -> RiskRule:
    return RiskRule(
        rule_id=row.rule_id,
        kind=RiskRuleKind(row.kind),
        params=row.params,
        weight=row.weight,
        enabled=row.enabled,
        description=row.description,
    )


def _line(row: Any) -> RiskLine:
    return RiskLine(
        line_number=row.line_number,
        procedure_code=row.procedure_code,
        modifiers=list(row.modifiers),
        charge=row.charge,
        units=row.units,
        service_date=row.service_date,
    )


def _latest_version(claim_id: Any) -> Any:
    return (
        select(func.max(InsuranceClaim.version))
        .where(InsuranceClaim.claim_id == claim_id)
        .correlate_except(InsuranceClaim)
        .scalar_subquery()
    )


class RiskRepository(Repository):
    """Flushes, never commits: the caller's unit of work does."""

    # ---- the rules ---------------------------------------------------------------------------------

    async def rules(self) -> list[RiskRule]:
        """Every rule, enabled or not, by id."""
        rows = await self.session.scalars(select(RiskRuleRow).order_by(RiskRuleRow.rule_id))
        return [to_rule(row) for row in rows]

    async def put_rule(self, rule: RiskRule) -> bool:
        """Write the rule, replacing one of the same id; True when it is new."""
        values = rule.model_dump(mode="json")
        statement = insert(RiskRuleRow).values(**values)
        changed: dict[str, Any] = {name: statement.excluded[name] for name in values if name != "rule_id"}
        upsert: Any = statement.on_conflict_do_update(
            index_elements=["rule_id"], set_=changed | {"updated_at": func.now()}
        ).returning(literal_column("(xmax = 0)"))  # no earlier version of the row: inserted
        written = await self.session.execute(upsert)
        return bool(written.scalar_one())

    # ---- the claim and its history -----------------------------------------------------------------

    async def subject(self, claim_id: str) -> RiskSubject | None:
        """The claim's latest snapshot (None when it has none)."""
        header = (
            await self.session.execute(
                select(
                    ClaimRegister.org_id,
                    ClaimRegister.created_at,
                    ClaimRegister.replaces_claim_id,
                    InsuranceClaim.version,
                    InsuranceClaim.payer_id,
                    InsuranceClaim.patient_member_id,
                    InsuranceClaim.frequency_code,
                )
                .join(InsuranceClaim, InsuranceClaim.claim_id == ClaimRegister.claim_id)
                .where(ClaimRegister.claim_id == claim_id)
                .order_by(InsuranceClaim.version.desc())
                .limit(1)
            )
        ).one_or_none()
        if header is None:
            return None
        lines = await self.session.execute(
            select(ClaimTestRelation)
            .where(ClaimTestRelation.claim_id == claim_id, ClaimTestRelation.version == header.version)
            .order_by(ClaimTestRelation.line_number)
        )
        return RiskSubject(
            claim_id=claim_id,
            org_id=header.org_id,
            received_at=header.created_at,
            payer_id=header.payer_id,
            patient_member_id=header.patient_member_id,
            frequency_code=FrequencyCode(header.frequency_code),
            replaces_claim_id=header.replaces_claim_id,
            lines=[_line(row) for row in lines.scalars()],
        )

    def _earlier(self, subject: RiskSubject) -> ColumnElement[bool]:
        """Claims of the subject's organization received before it, still standing (accepted, neither replaced nor
        voided), other than the original it replaces."""
        conditions = [
            ClaimRegister.org_id == subject.org_id,
            tuple_(ClaimRegister.created_at, ClaimRegister.claim_id) < tuple_(subject.received_at, subject.claim_id),
            ClaimRegister.status.not_in(NOT_HISTORY),
        ]
        if subject.replaces_claim_id is not None:
            conditions.append(ClaimRegister.claim_id != subject.replaces_claim_id)
        return and_(*conditions)

    async def prior_claims(self, subject: RiskSubject, *, since: date) -> list[PriorClaim]:
        """The patient's earlier claims with the same payer (latest snapshot of each, voids left out), with their
        lines of service on or after `since`, oldest first."""
        rows = await self.session.execute(
            select(
                ClaimTestRelation.claim_id,
                ClaimTestRelation.line_number,
                ClaimTestRelation.procedure_code,
                ClaimTestRelation.modifiers,
                ClaimTestRelation.charge,
                ClaimTestRelation.units,
                ClaimTestRelation.service_date,
            )
            .join(
                InsuranceClaim,
                and_(
                    InsuranceClaim.claim_id == ClaimTestRelation.claim_id,
                    InsuranceClaim.version == ClaimTestRelation.version,
                ),
            )
            .join(ClaimRegister, ClaimRegister.claim_id == ClaimTestRelation.claim_id)
            .where(
                InsuranceClaim.payer_id == subject.payer_id,
                InsuranceClaim.patient_member_id == subject.patient_member_id,
                InsuranceClaim.frequency_code != FrequencyCode.VOID.value,
                InsuranceClaim.version == _latest_version(InsuranceClaim.claim_id),
                ClaimTestRelation.service_date >= since,
                self._earlier(subject),
            )
            .order_by(ClaimRegister.created_at, ClaimRegister.claim_id, ClaimTestRelation.line_number)
        )
        claims: dict[str, list[RiskLine]] = {}
        for row in rows:
            claims.setdefault(row.claim_id, []).append(_line(row))
        return [PriorClaim(claim_id=claim_id, lines=lines) for claim_id, lines in claims.items()]

    async def prior_charges(
        self, subject: RiskSubject, codes: Iterable[str], *, limit: int
    ) -> dict[str, list[Decimal]]:
        """The organization's charges for each code on earlier claims (any patient): the latest `limit` lines of
        each code, keyed by edit_key(code)."""
        wanted = sorted(set(codes))
        if not wanted:
            return {}
        ranked = (
            select(
                ClaimTestRelation.procedure_code,
                ClaimTestRelation.charge,
                func.row_number()
                .over(
                    partition_by=ClaimTestRelation.procedure_code,
                    order_by=(ClaimRegister.created_at.desc(), ClaimRegister.claim_id.desc()),
                )
                .label("recent"),
            )
            .join(ClaimRegister, ClaimRegister.claim_id == ClaimTestRelation.claim_id)
            .where(
                ClaimTestRelation.procedure_code.in_(wanted),
                ClaimTestRelation.version == _latest_version(ClaimTestRelation.claim_id),
                self._earlier(subject),
            )
            .subquery()
        )
        rows = await self.session.execute(
            select(ranked.c.procedure_code, ranked.c.charge).where(ranked.c.recent <= limit)
        )
        charges: dict[str, list[Decimal]] = {}
        for code, charge in rows:
            charges.setdefault(edit_key(code), []).append(charge)
        return charges

    async def history(self, subject: RiskSubject, *, lookback_days: int, charge_lines: int) -> RiskHistory:
        """What the rules compare the subject with: the patient's earlier claims from `lookback_days` before its
        first service date, and the organization's latest `charge_lines` charges of each of its codes."""
        first = min(line.service_date for line in subject.lines)
        since = date.fromordinal(max(1, first.toordinal() - lookback_days))
        return RiskHistory(
            prior_claims=await self.prior_claims(subject, since=since),
            prior_charges=await self.prior_charges(
                subject, (line.procedure_code for line in subject.lines), limit=charge_lines
            ),
        )

    async def pairs(self, codes: Iterable[str]) -> EditTables:
        """The NCCI procedure-to-procedure pairs among the codes (the CMS table the scrubber reads)."""
        wanted = sorted({edit_key(code) for code in codes})
        rows = await self.session.scalars(
            select(NcciPtpEdit).where(NcciPtpEdit.column1.in_(wanted), NcciPtpEdit.column2.in_(wanted))
        )
        return EditTables(
            ptp=[
                PtpEdit(
                    column1=row.column1,
                    column2=row.column2,
                    effective_date=row.effective_date,
                    deletion_date=row.deletion_date,
                    modifier_indicator=ModifierIndicator(row.modifier_indicator),
                )
                for row in rows
            ]
        )
