"""The audit log's hash chain: each row's canonical encoding and hash, and the walk that finds the first bad row.

The database builds the chain on INSERT (trigger audit_log_chained, function audit_row_hash in the 0001
migration); this module computes the same hash independently to verify it. The canonical encoding is
`claimflow-audit-v1;` followed by each field as `<UTF-8 byte length>:<text>;` (`~;` for NULL), in this order:
id, event_key, claim_id, actor, action, at and created_at as microseconds since the Unix epoch, details as
PostgreSQL's canonical jsonb text (keys ordered, spacing fixed), prev_hash. Rows are numbered 1, 2, 3, … with no
gaps; the first row's prev_hash is GENESIS_HASH; `audit_chain_head` holds the last id and hash.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum

#: The prev_hash of the first row.
GENESIS_HASH = "0" * 64
#: Names the encoding, so a future one can be told apart.
ENCODING_TAG = "claimflow-audit-v1;"
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)


@dataclass(frozen=True)
class ChainRow:
    """An audit row as the chain sees it; `details_text` is the row's details as PostgreSQL prints jsonb."""

    id: int
    event_key: str
    claim_id: str | None
    actor: str
    action: str
    at: datetime
    details_text: str
    created_at: datetime
    prev_hash: str
    row_hash: str


def _field(value: str | None) -> str:
    return "~;" if value is None else f"{len(value.encode())}:{value};"


def _micros(moment: datetime) -> str:
    return str((moment - _EPOCH) // _MICROSECOND)


def canonical(row: ChainRow) -> bytes:
    """The bytes the row's hash covers: every field but row_hash itself."""
    fields = (
        str(row.id),
        row.event_key,
        row.claim_id,
        row.actor,
        row.action,
        _micros(row.at),
        row.details_text,
        _micros(row.created_at),
        row.prev_hash,
    )
    return (ENCODING_TAG + "".join(_field(value) for value in fields)).encode()


def row_hash(row: ChainRow) -> str:
    """The SHA-256 (hex) the row should carry."""
    return hashlib.sha256(canonical(row)).hexdigest()


class Problem(StrEnum):
    """What is wrong at the first bad row."""

    ALTERED = "altered"  # its content no longer matches its hash (or the head's)
    DELETED = "deleted"  # a row that was written is missing
    INSERTED = "inserted"  # a row the chain never wrote: out of sequence, or hashed but not linked


@dataclass(frozen=True)
class ChainBreak:
    """The first bad row: its id (for a deleted row, the id that is missing) and what is wrong."""

    row_id: int
    problem: Problem
    detail: str


@dataclass
class ChainWalk:
    """Feed the rows in id order, then `finish` with the head; the first break found is kept."""

    head_id: int
    head_hash: str
    rows: int = 0
    last_id: int = 0
    last_hash: str = GENESIS_HASH
    broken: ChainBreak | None = None

    def feed(self, row: ChainRow) -> None:
        """Check one row against the one before it; a no-op once the chain is broken."""
        if self.broken is not None:
            return
        self.rows += 1
        self.broken = self._check(row)
        self.last_id, self.last_hash = row.id, row.row_hash

    def _check(self, row: ChainRow) -> ChainBreak | None:
        expected = self.last_id + 1
        if row.id > self.head_id or row.id < expected:
            return ChainBreak(row.id, Problem.INSERTED, f"row {row.id} was not written by the chain ({self._span()})")
        if row.id > expected:
            return ChainBreak(expected, Problem.DELETED, f"{_rows(expected, row.id - 1)} missing before row {row.id}")
        if row_hash(row) != row.row_hash:
            return ChainBreak(row.id, Problem.ALTERED, f"row {row.id} does not match its hash")
        if row.prev_hash != self.last_hash:
            if self.last_id == 0:
                return ChainBreak(row.id, Problem.INSERTED, f"row {row.id} does not start the chain")
            # the row before was rewritten with a fresh hash: its successor still names the old one
            return ChainBreak(
                self.last_id, Problem.ALTERED, f"row {self.last_id} is not the row that row {row.id} was chained to"
            )
        if row.id == self.head_id and row.row_hash != self.head_hash:
            return ChainBreak(row.id, Problem.ALTERED, f"row {row.id} is not the row the chain's head recorded")
        return None

    def finish(self) -> ChainBreak | None:
        """The first break, including rows missing after the last one read."""
        if self.broken is None and self.last_id < self.head_id:
            self.broken = ChainBreak(
                self.last_id + 1, Problem.DELETED, f"{_rows(self.last_id + 1, self.head_id)} missing at the end"
            )
        return self.broken

    def _span(self) -> str:
        return f"the chain's rows are 1-{self.head_id}" if self.head_id else "the chain is empty"


def _rows(first: int, last: int) -> str:
    return f"row {first} is" if first == last else f"rows {first}-{last} are"
