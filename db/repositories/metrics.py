"""Read-only queries behind the API's claim metrics: counts by status, SLA breaches, stuck claims, first-pass
acceptance, denials by CARC, time spent in each status and failed webhook deliveries. Ids, codes and counts only; cheap by design (each
query walks an index of the claim register, or the ledger once)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import text

from db.repositories.base import Repository

#: The workflow's reasons for a processor's rejection (workflows/claim.py): the receipt's at submission, and the
#: review a rejection answered by a later poll (or at submission) sends the claim to.
REJECTED_AT_SUBMISSION = "rejected by the processor%"
REJECTED_INTO_REVIEW = "needs review: rejected_by_processor%"

_CLAIMS_BY_STATUS = text("SELECT status, count(*) FROM claim GROUP BY status")

_SLA_BREACHES = text("SELECT count(*) FROM claim WHERE status = 'in_review' AND review_due_at < :now")

# The current status's row (claim_id, status_seq) is the status history's primary key: when the claim entered it. The
# scalar subquery keeps that a primary-key lookup per candidate claim (few: the claims in a stuck-prone status).
_STUCK = text(
    """
    SELECT count(*) FROM claim c
    WHERE c.status = ANY(:statuses)
      AND (SELECT h.at FROM claim_status_history h WHERE h.claim_id = c.claim_id AND h.seq = c.status_seq) < :before
    """
)

# Claims received since :since that reached the processor (a `submitted` row), original claims only (a replacement
# or void is a resubmission), and how many of them the processor never rejected. LATERAL reads each claim's history
# through its primary key (the window's claims, by the created_at index), never the whole history table.
_FIRST_PASS = text(
    """
    SELECT count(*) FILTER (WHERE h.submitted) AS submitted,
           count(*) FILTER (WHERE h.submitted AND NOT h.rejected) AS accepted
    FROM claim c CROSS JOIN LATERAL (
        SELECT coalesce(bool_or(r.status = 'submitted'), false) AS submitted,
               coalesce(bool_or(r.reason LIKE :rejected_at_submission OR r.reason LIKE :rejected_into_review), false)
                   AS rejected
        FROM claim_status_history r WHERE r.claim_id = c.claim_id
    ) h
    WHERE c.created_at >= :since AND c.replaces_claim_id IS NULL
    """
)

# Denied line postings (nothing paid on a billed line) by each CARC the line was adjusted with. The ledger is
# append-only, so these counts only grow; reversals back out amounts and are not denials.
_DENIALS_BY_CARC = text(
    """
    SELECT adjustment->>'reason_code' AS carc, count(*)
    FROM claim_ledger_entry e CROSS JOIN LATERAL jsonb_array_elements(e.adjustments) AS adjustment
    WHERE e.kind <> 'reversal' AND e.line_number IS NOT NULL AND e.paid = 0 AND e.billed > 0
    GROUP BY 1
    """
)

# Webhook delivery attempts that did not deliver: each delivery's attempts but the one that delivered it (an operator's
# redelivery that is taken is an attempt that delivered too, and is counted here as well: redeliveries are rare).
_WEBHOOK_FAILURES = text(
    "SELECT coalesce(sum(attempts - CASE WHEN delivered_at IS NOT NULL THEN 1 ELSE 0 END), 0) FROM webhook_delivery"
)

# Each finished stay in a status (the time to the claim's next status row) of the claims received since :since,
# counted into the histogram's buckets (width_bucket: index i counts bounds[i-1] <= seconds < bounds[i]). LATERAL
# reads each claim's history through its primary key, as for first-pass acceptance.
_STATUS_SECONDS = text(
    """
    WITH stays AS (
        SELECT s.status, s.seconds
        FROM claim c CROSS JOIN LATERAL (
            SELECT h.status, extract(epoch FROM lead(h.at) OVER (ORDER BY h.seq) - h.at) AS seconds
            FROM claim_status_history h WHERE h.claim_id = c.claim_id
        ) s
        WHERE c.created_at >= :since
    )
    SELECT status, width_bucket(seconds, CAST(:bounds AS double precision[])) AS bucket, count(*), sum(seconds)
    FROM stays WHERE seconds IS NOT NULL
    GROUP BY status, bucket
    """
)


class MetricsRepository(Repository):
    """Read-only: one snapshot (REPEATABLE READ, READ ONLY) whose statements PostgreSQL cuts off at a timeout."""

    async def begin_snapshot(self, timeout_seconds: float) -> None:
        """Make the session's transaction a read-only snapshot with a statement timeout (its first statements)."""
        await self.session.execute(text("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY"))
        await self.session.execute(
            text("SELECT set_config('statement_timeout', :ms, true)"), {"ms": str(max(1, int(timeout_seconds * 1000)))}
        )

    async def claims_by_status(self) -> dict[str, int]:
        rows = await self.session.execute(_CLAIMS_BY_STATUS)
        return {status: count for status, count in rows}

    async def sla_breaches(self, now: datetime) -> int:
        return int((await self.session.execute(_SLA_BREACHES, {"now": now})).scalar_one())

    async def stuck(self, statuses: Sequence[str], before: datetime) -> int:
        """Claims in one of `statuses` since before `before`."""
        params = {"statuses": list(statuses), "before": before}
        return int((await self.session.execute(_STUCK, params)).scalar_one())

    async def first_pass(self, since: datetime) -> tuple[int, int]:
        """(claims that reached the processor, those it never rejected), of the original claims received since."""
        params = {
            "since": since,
            "rejected_at_submission": REJECTED_AT_SUBMISSION,
            "rejected_into_review": REJECTED_INTO_REVIEW,
        }
        submitted, accepted = (await self.session.execute(_FIRST_PASS, params)).one()
        return int(submitted), int(accepted)

    async def denials_by_carc(self) -> dict[str, int]:
        rows = await self.session.execute(_DENIALS_BY_CARC)
        return {carc: count for carc, count in rows if carc}

    async def webhook_delivery_failures(self) -> int:
        return int((await self.session.execute(_WEBHOOK_FAILURES)).scalar_one())

    async def status_seconds(self, since: datetime, bounds: Sequence[float]) -> list[tuple[str, int, int, float]]:
        """(status, bucket index, stays, their seconds) of the finished stays of the claims received since."""
        rows = await self.session.execute(_STATUS_SECONDS, {"since": since, "bounds": list(bounds)})
        return [(status, int(bucket), int(count), float(total)) for status, bucket, count, total in rows]
