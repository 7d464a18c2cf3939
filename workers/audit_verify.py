"""`claimflow audit verify`: walk the audit log's hash chain and say whether it is intact, or its first bad row."""

from __future__ import annotations

import sys

from db.engine import create_engine, create_session_factory
from services.audit import AuditVerification, verify_chain
from workers import event_loop
from workers.database import database
from workers.settings import Settings


def verify(settings: Settings) -> int:
    """0 and the row count and head hash when the chain is intact; 1 and the first bad row when it is not."""
    with database(settings) as db:
        result = event_loop.run(_verify(db.url))
    if result.intact:
        print(f"audit log intact: {result.rows} rows, head {result.head_id} {result.head_hash}")
        return 0
    print(
        f"audit log broken at row {result.first_bad_row} ({result.problem}): {result.detail}; "
        f"{result.rows} rows read, head {result.head_id} {result.head_hash}",
        file=sys.stderr,
    )
    return 1


async def _verify(url: str) -> AuditVerification:
    engine = create_engine(url)
    try:
        return await verify_chain(create_session_factory(engine))
    finally:
        await engine.dispose()
