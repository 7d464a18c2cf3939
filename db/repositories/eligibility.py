"""EligibilityRepository: the payer's eligibility answer kept with each claim, written by the check, read by GET."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, ScalarSelect, func, literal_column, select

from db.models.claim_eligibility import ClaimEligibility
from db.records import ClaimEligibilityRecord
from db.repositories.base import Repository
from domain.eligibility import EligibilityResult


def eligibility_json(claim_id: ColumnElement[str]) -> ScalarSelect[Any]:
    """A claim's eligibility answer with its checked_at, as one JSON object or NULL (a column of another query)."""
    answer = ClaimEligibility.answer.op("||")(
        func.jsonb_build_object(literal_column("'checked_at'"), ClaimEligibility.checked_at)
    )
    return select(answer).where(ClaimEligibility.claim_id == claim_id).scalar_subquery()


def eligibility_of(document: dict[str, Any] | None) -> ClaimEligibilityRecord | None:
    """The record of an eligibility_json() object."""
    return None if document is None else ClaimEligibilityRecord.model_validate(document)


class EligibilityRepository(Repository):
    """Reads and writes claim_eligibility: one answer per claim, the latest check's."""

    async def record(self, claim_id: str, result: EligibilityResult, checked_at: datetime) -> None:
        """Keep the answer with the claim; a later check of the same claim replaces it (a retry writes the same)."""
        values = {
            "claim_id": claim_id,
            "checked_at": checked_at,
            "active": result.active,
            "answer": result.model_dump(mode="json"),
        }
        statement = self._insert(ClaimEligibility).values(values)
        await self.session.execute(
            statement.on_conflict_do_update(
                index_elements=[ClaimEligibility.claim_id],
                set_={"checked_at": checked_at, "active": result.active, "answer": values["answer"]},
            )
        )

    async def get(self, claim_id: str) -> ClaimEligibilityRecord | None:
        row = await self.session.scalar(select(ClaimEligibility).where(ClaimEligibility.claim_id == claim_id))
        return None if row is None else eligibility_of({**row.answer, "checked_at": row.checked_at})
