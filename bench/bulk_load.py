"""Bulk-load finished claims into PostgreSQL with COPY, table by table through the db models — not through workflows.

Each claim gets what the engine would have written for it: the register row (with the claim document),
its status history and audit entries, the snapshot (header, billing provider, lines, bills), and for
adjudicated claims the line adjudication and the payment. The mix of final statuses: 85% closed, 8%
denied after review, 5% invalid, 2% cancelled; created over the last 365 days, 20 organizations,
three payers.
"""

from __future__ import annotations

import random
import time
import uuid
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import psycopg
from psycopg.types.json import Jsonb
from sqlalchemy import Table, make_url

from db.models import (
    AuditLog,
    BillClaimRelation,
    ClaimLineAdjudication,
    ClaimProviderInfo,
    ClaimRegister,
    ClaimStatusHistory,
    ClaimTestRelation,
    InsuranceClaim,
    Payment,
)
from db.repositories.snapshots import header_row, provider_rows
from domain.claim import Claim
from workers.sample_claims import scenario_claim

ORGS = [f"org-{n:02d}" for n in range(20)]
PAYERS = ["SANDBOX", "ACMEHLTH", "BLUEMDW"]
ADJUSTERS = ["alice", "bob"]
#: Status paths of finished claims and their share.
PATHS: list[tuple[float, list[str]]] = [
    (0.85, ["received", "validating", "submitted", "pending", "approved", "paid", "closed"]),
    (0.08, ["received", "validating", "submitted", "pending", "in_review", "denied"]),
    (0.05, ["received", "validating", "invalid"]),
    (0.02, ["received", "validating", "submitted", "pending", "cancelled"]),
]
TABLES: dict[str, Table] = {
    model.__tablename__: model.__table__  # type: ignore[misc]
    for model in (
        ClaimRegister,
        ClaimStatusHistory,
        AuditLog,
        InsuranceClaim,
        ClaimProviderInfo,
        ClaimTestRelation,
        BillClaimRelation,
        ClaimLineAdjudication,
        Payment,
    )
}


def _json(value: Any) -> Any:
    return Jsonb(value) if isinstance(value, dict | list) else value


class Rows:
    """Rows per table, as dicts keyed by column name, checked against the model's table."""

    def __init__(self) -> None:
        self.by_table: dict[str, list[dict[str, Any]]] = {name: [] for name in TABLES}

    def add(self, table: str, **row: Any) -> None:
        self.by_table[table].append(row)


def claim_rows(rows: Rows, rng: random.Random, n: int, now: datetime) -> str:
    """Everything recorded about one finished claim; returns its status."""
    claim_id = uuid.UUID(int=rng.getrandbits(128)).hex
    org = ORGS[n % len(ORGS)]
    payer = PAYERS[n % len(PAYERS)]
    created = now - timedelta(seconds=rng.uniform(0, 365 * 86400))
    body = scenario_claim("M", f"{n:09d}", service_date=(created - timedelta(days=3)).date())
    body["insurance"]["payer_id"] = payer
    claim = Claim.model_validate(body)
    pick = rng.random()
    path = next((p for share, p in PATHS if (pick := pick - share) < 0), PATHS[0][1])
    status = path[-1]
    at = [created + timedelta(seconds=2 * i) for i in range(len(path))]
    payer_claim_id = f"PCN-{claim_id[:16].upper()}" if "submitted" in path else None
    adjuster = ADJUSTERS[n % 2] if "in_review" in path else None
    errors = [
        {
            "rule_id": "claim.total_charge",
            "path": "total_charge",
            "message": "total does not match",
            "severity": "error",
        }
    ]
    rows.add(
        "claim",
        claim_id=claim_id,
        org_id=org,
        idempotency_key=f"bulk-{n}",
        request_hash=f"{n:064x}",
        patient_control_number=claim.patient_control_number,
        payer_id=payer,
        total_charge=claim.total_charge,
        status=status,
        status_seq=len(path) - 1,
        assigned_adjuster=adjuster,
        payer_claim_id=payer_claim_id,
        document=body,
        validation_errors=errors if status == "invalid" else [],
        created_at=created,
        updated_at=at[-1],
    )
    for seq, (step, when) in enumerate(zip(path, at, strict=True)):
        actor = f"org:{org}" if seq == 0 else (f"adjuster:{adjuster}" if step == "denied" else "claimflow")
        reason = "received" if seq == 0 else f"moved to {step}"
        rows.add(
            "claim_status_history",
            claim_id=claim_id,
            seq=seq,
            status=step,
            reason=reason,
            at=when,
            actor=actor,
            created_at=when,
        )
        rows.add(
            "audit_log",
            event_key=f"claim:{claim_id}:{'received' if seq == 0 else f'status:{seq}'}",
            claim_id=claim_id,
            actor=actor,
            action="claim.received" if seq == 0 else "claim.status_changed",
            at=when,
            details={"status": step, "seq": seq},
            created_at=when,
        )
    if status == "invalid":
        return status
    key = {"claim_id": claim_id, "version": 1, "created_at": at[1]}
    rows.add(
        "insurance_claim",
        **key,
        **header_row(claim),
        taken_at=at[1],
    )
    for provider in provider_rows(claim):
        rows.add("claim_provider_info", **key, **provider)
    for number, line in enumerate(claim.lines, start=1):
        rows.add(
            "claim_test_relation",
            **key,
            line_number=number,
            procedure_code=line.procedure_code,
            modifiers=list(line.modifiers),
            charge=line.charge,
            units=line.units,
            service_date=line.service_date,
            place_of_service=line.place_of_service,
            diagnosis_pointers=list(line.diagnosis_pointers),
            line_control_number=line.line_control_number,
        )
    for bill_id in dict.fromkeys(claim.bill_ids):
        rows.add("bill_claim_relation", **key, bill_id=bill_id)
    if status in ("closed", "denied"):
        paid = claim.total_charge if status == "closed" else Decimal("0.00")
        adjustments = (
            [] if status == "closed" else [{"group_code": "CO", "reason_code": "50", "amount": str(claim.total_charge)}]
        )
        rows.add(
            "claim_line_adjudication",
            claim_id=claim_id,
            line_number=1,
            billed=claim.total_charge,
            allowed=paid,
            paid=paid,
            adjustments=adjustments,
            remark_codes=[] if status == "closed" else ["N130"],
            source="processor",
            adjudicated_at=at[-3],
            created_at=at[-3],
            updated_at=at[-3],
        )
    if status == "closed":
        rows.add(
            "payment",
            payment_id=f"PAY-{claim_id[:16].upper()}",
            claim_id=claim_id,
            amount=paid,
            paid_at=at[-2],
            created_at=at[-2],
        )
    return status


def copy_rows(connection: psycopg.Connection[Any], table: Table, rows: Iterable[dict[str, Any]]) -> int:
    """COPY rows (all with the same keys) into a table; the keys must be the table's columns."""
    rows = list(rows)
    if not rows:
        return 0
    columns = list(rows[0])
    unknown = set(columns) - set(table.columns.keys())
    if unknown:
        raise ValueError(f"{table.name} has no columns {sorted(unknown)}")
    names = ", ".join(columns)
    with connection.cursor() as cursor, cursor.copy(f"COPY {table.name} ({names}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row([_json(row[c]) for c in columns])
    return len(rows)


def bulk_load(database_url: str, claims: int, *, seed: int = 7, batch: int = 10_000) -> dict[str, Any]:
    """Load `claims` finished claims; return how many rows went into each table, the status mix and the time."""
    rng = random.Random(seed)
    now = datetime.now(UTC)
    url = make_url(database_url).set(drivername="postgresql").render_as_string(hide_password=False)
    counts: dict[str, int] = dict.fromkeys(TABLES, 0)
    statuses: dict[str, int] = {}
    began = time.perf_counter()
    with psycopg.connect(url) as connection:
        for start in range(0, claims, batch):
            rows = Rows()
            for n in range(start, min(claims, start + batch)):
                status = claim_rows(rows, rng, n, now)
                statuses[status] = statuses.get(status, 0) + 1
            for name, table in TABLES.items():  # parents first: the dict is in foreign-key order
                counts[name] += copy_rows(connection, table, rows.by_table[name])
            connection.commit()
        connection.autocommit = True
        connection.execute("ANALYZE")
    return {"claims": claims, "rows": counts, "statuses": statuses, "seconds": round(time.perf_counter() - began, 1)}
