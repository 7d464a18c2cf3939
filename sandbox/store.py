"""SQLite persistence for the sandbox: one connection, one lock, short transactions."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

_SCHEMA = """
CREATE TABLE IF NOT EXISTS idempotency (
    scope TEXT NOT NULL,
    key TEXT NOT NULL,
    body_hash TEXT NOT NULL,
    status_code INTEGER NOT NULL,
    response TEXT NOT NULL,
    replays INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (scope, key)
);
CREATE TABLE IF NOT EXISTS claims (
    payer_claim_id TEXT PRIMARY KEY,
    claim_id TEXT NOT NULL,
    idempotency_key TEXT NOT NULL,
    scenario TEXT NOT NULL,
    reject_status_code TEXT,
    reject_message TEXT,
    body TEXT NOT NULL,
    remittance TEXT NOT NULL,
    submitted_at REAL NOT NULL,
    status_requests INTEGER NOT NULL DEFAULT 0,
    last_category TEXT NOT NULL,
    callback_url TEXT,
    webhook_state TEXT NOT NULL,
    webhook_category TEXT,
    webhook_due_at REAL,
    webhook_attempts INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS claims_by_claim_id ON claims (claim_id);
CREATE INDEX IF NOT EXISTS claims_by_webhook ON claims (webhook_state, webhook_due_at);
CREATE TABLE IF NOT EXISTS payments (
    payment_id TEXT PRIMARY KEY,
    payer_claim_id TEXT NOT NULL,
    idempotency_key TEXT NOT NULL,
    amount TEXT NOT NULL,
    body TEXT NOT NULL,
    created_at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS payments_by_claim ON payments (payer_claim_id);
CREATE TABLE IF NOT EXISTS counters (
    name TEXT PRIMARY KEY,
    value INTEGER NOT NULL
);
"""

_CLAIM_COLUMNS = (
    "payer_claim_id, claim_id, idempotency_key, scenario, reject_status_code, reject_message, body, remittance, "
    "submitted_at, status_requests, last_category, callback_url, webhook_state, webhook_category, "
    "webhook_due_at, webhook_attempts"
)


@dataclass(frozen=True)
class IdempotencyRecord:
    """A stored answer to an idempotent request."""

    body_hash: str
    status_code: int
    response: str


@dataclass(frozen=True)
class ClaimRow:
    """One payer claim as stored."""

    payer_claim_id: str
    claim_id: str
    idempotency_key: str
    scenario: str
    reject_status_code: str | None
    reject_message: str | None
    body: str
    remittance: str
    submitted_at: float
    status_requests: int
    last_category: str
    callback_url: str | None
    webhook_state: str
    webhook_category: str | None
    webhook_due_at: float | None
    webhook_attempts: int


@dataclass(frozen=True)
class LedgerRow:
    """One payer claim with its payment totals, for the ledger."""

    claim: ClaimRow
    submissions_for_claim_id: int
    submission_replays: int
    payments_applied: int
    payment_amounts: tuple[str, ...]


@dataclass(frozen=True)
class WebhookJob:
    """A webhook the notifier should deliver now."""

    payer_claim_id: str
    claim_id: str
    category: str
    callback_url: str
    attempts: int


class Tx:
    """The queries available inside one transaction."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn

    def idempotency(self, scope: str, key: str) -> IdempotencyRecord | None:
        """The stored answer for (scope, key), if any."""
        row = self._conn.execute(
            "SELECT body_hash, status_code, response FROM idempotency WHERE scope = ? AND key = ?", (scope, key)
        ).fetchone()
        return None if row is None else IdempotencyRecord(row[0], row[1], row[2])

    def count_replay(self, scope: str, key: str) -> None:
        """Note that a stored answer was replayed."""
        self._conn.execute("UPDATE idempotency SET replays = replays + 1 WHERE scope = ? AND key = ?", (scope, key))

    def save_idempotency(self, scope: str, key: str, record: IdempotencyRecord) -> None:
        """Store the answer to an applied request."""
        self._conn.execute(
            "INSERT INTO idempotency (scope, key, body_hash, status_code, response) VALUES (?, ?, ?, ?, ?)",
            (scope, key, record.body_hash, record.status_code, record.response),
        )

    def insert_claim(self, claim: ClaimRow) -> None:
        """Store a newly accepted payer claim."""
        self._conn.execute(
            f"INSERT INTO claims ({_CLAIM_COLUMNS}) VALUES ({', '.join('?' * 16)})",  # noqa: S608 - constant columns
            (
                claim.payer_claim_id,
                claim.claim_id,
                claim.idempotency_key,
                claim.scenario,
                claim.reject_status_code,
                claim.reject_message,
                claim.body,
                claim.remittance,
                claim.submitted_at,
                claim.status_requests,
                claim.last_category,
                claim.callback_url,
                claim.webhook_state,
                claim.webhook_category,
                claim.webhook_due_at,
                claim.webhook_attempts,
            ),
        )

    def claim(self, payer_claim_id: str) -> ClaimRow | None:
        """One payer claim, if known."""
        row = self._conn.execute(
            f"SELECT {_CLAIM_COLUMNS} FROM claims WHERE payer_claim_id = ?",  # noqa: S608 - constant columns
            (payer_claim_id,),
        ).fetchone()
        return None if row is None else ClaimRow(*row)

    def successors(self, payer_claim_id: str) -> list[ClaimRow]:
        """The replacements (frequency 7) and voids (frequency 8) that name this payer claim id, oldest first."""
        return [
            ClaimRow(*row)
            for row in self._conn.execute(
                f"SELECT {_CLAIM_COLUMNS} FROM claims "  # noqa: S608 - constant columns
                "WHERE json_extract(body, '$.original_payer_claim_id') = ? ORDER BY rowid",
                (payer_claim_id,),
            )
        ]

    def record_status_request(self, payer_claim_id: str, category: str) -> None:
        """Count a status request and remember the category it answered."""
        self._conn.execute(
            "UPDATE claims SET status_requests = status_requests + 1, last_category = ? WHERE payer_claim_id = ?",
            (category, payer_claim_id),
        )

    def insert_payment(
        self, payment_id: str, payer_claim_id: str, key: str, amount: str, body: str, created_at: float
    ) -> None:
        """Store an issued payment."""
        self._conn.execute(
            "INSERT INTO payments (payment_id, payer_claim_id, idempotency_key, amount, body, created_at) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            (payment_id, payer_claim_id, key, amount, body, created_at),
        )

    def bump(self, name: str, by: int = 1) -> None:
        """Add to a named counter."""
        self._conn.execute(
            "INSERT INTO counters (name, value) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET value = value + ?",
            (name, by, by),
        )

    def counters(self) -> dict[str, int]:
        """Every named counter."""
        return {name: value for name, value in self._conn.execute("SELECT name, value FROM counters")}

    def ledger_rows(self, claim_id: str | None) -> list[LedgerRow]:
        """Every payer claim (or those of one claim_id) in submission order, with payment totals."""
        where, params = ("WHERE claim_id = ?", (claim_id,)) if claim_id is not None else ("", ())
        claims = [
            ClaimRow(*row)
            for row in self._conn.execute(
                f"SELECT {_CLAIM_COLUMNS} FROM claims {where} ORDER BY rowid",  # noqa: S608 - constant SQL
                params,
            )
        ]
        per_claim_id: dict[str, int] = {}
        for row in self._conn.execute(f"SELECT claim_id, COUNT(*) FROM claims {where} GROUP BY claim_id", params):  # noqa: S608
            per_claim_id[row[0]] = row[1]
        payments: dict[str, list[str]] = {}
        for pcid, amount in self._conn.execute("SELECT payer_claim_id, amount FROM payments ORDER BY rowid"):
            payments.setdefault(pcid, []).append(amount)
        replays = {
            key: count
            for key, count in self._conn.execute("SELECT key, replays FROM idempotency WHERE scope = 'claim'")
        }
        return [
            LedgerRow(
                claim=claim,
                submissions_for_claim_id=per_claim_id.get(claim.claim_id, 0),
                submission_replays=replays.get(claim.idempotency_key, 0),
                payments_applied=len(payments.get(claim.payer_claim_id, ())),
                payment_amounts=tuple(payments.get(claim.payer_claim_id, ())),
            )
            for claim in claims
        ]

    def take_due_webhooks(self, now: float, limit: int) -> list[WebhookJob]:
        """Claim (mark in flight) the webhooks due at `now`."""
        rows = self._conn.execute(
            "SELECT payer_claim_id, claim_id, webhook_category, callback_url, webhook_attempts FROM claims "
            "WHERE webhook_state = 'pending' AND webhook_due_at <= ? ORDER BY webhook_due_at LIMIT ?",
            (now, limit),
        ).fetchall()
        self._conn.executemany(
            "UPDATE claims SET webhook_state = 'inflight' WHERE payer_claim_id = ?", [(row[0],) for row in rows]
        )
        return [WebhookJob(*row) for row in rows]

    def set_webhook(self, payer_claim_id: str, state: str, attempts: int, due_at: float | None) -> None:
        """Record the outcome of a delivery attempt."""
        self._conn.execute(
            "UPDATE claims SET webhook_state = ?, webhook_attempts = ?, webhook_due_at = ? WHERE payer_claim_id = ?",
            (state, attempts, due_at, payer_claim_id),
        )

    def clear(self) -> None:
        """Forget every claim, payment, idempotency record and counter."""
        for table in ("idempotency", "claims", "payments", "counters"):
            self._conn.execute(f"DELETE FROM {table}")  # noqa: S608 - constant table names


class Store:
    """A SQLite database (in memory, or a file that survives restarts) behind one lock."""

    def __init__(self, path: Path | None) -> None:
        self._lock = threading.Lock()
        target = ":memory:" if path is None else str(path)
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
        self._conn = sqlite3.connect(target, check_same_thread=False, isolation_level=None)
        if path is not None:
            self._conn.execute("PRAGMA journal_mode=WAL")
            self._conn.execute("PRAGMA synchronous=NORMAL")
        self._conn.executescript(_SCHEMA)
        # Deliveries that were in flight when a previous process stopped are due again.
        self._conn.execute("UPDATE claims SET webhook_state = 'pending' WHERE webhook_state = 'inflight'")

    @contextmanager
    def transaction(self) -> Iterator[Tx]:
        """Run the block under the lock in one SQLite transaction (rolled back on error)."""
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield Tx(self._conn)
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("COMMIT")

    def close(self) -> None:
        """Close the connection."""
        with self._lock:
            self._conn.close()
