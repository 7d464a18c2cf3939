"""Claim listings: newest first, filtered, paged with opaque cursors."""

from __future__ import annotations

import base64

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.errors import InvalidCursorError
from db.records import ClaimSummary
from db.uow import UnitOfWork
from domain.errors import RefusedError
from domain.status import ClaimStatus
from tests.db.helpers import at, new_claim_id
from tests.domain.factories import make_claim


async def page_through(sessions: async_sessionmaker[AsyncSession], limit: int, **filters) -> list[list[ClaimSummary]]:
    pages: list[list[ClaimSummary]] = []
    cursor = None
    criteria = {"org_id": None, "status": None, "payer_id": None, "adjuster": None, **filters}
    while True:
        async with UnitOfWork(sessions) as uow:
            page = await uow.claims.list_page(**criteria, limit=limit, cursor=cursor)
        pages.append(page.items)
        if page.next_cursor is None:
            return pages
        cursor = page.next_cursor


@pytest.fixture
async def claims(session_factory) -> list[str]:
    """25 claims: 20 in org-1, 5 in org-2; every 5th for ACMEHLTH; claims 0-4 in review with alice.
    Claims 10 and 11 share a received time, to page across a tie."""
    ids = [new_claim_id() for _ in range(25)]
    async with UnitOfWork(session_factory) as uow:  # one transaction: this fixture runs for every test here
        for n, claim_id in enumerate(ids):
            await uow.claims.intake(
                claim_id=claim_id,
                org_id="org-2" if n >= 20 else "org-1",
                idempotency_key=None,
                request_hash="h",
                claim=make_claim(insurance={"payer_id": "ACMEHLTH"}) if n % 5 == 0 else make_claim(),
                received_at=at(10) if n == 11 else at(n),
            )
        for claim_id in ids[:5]:
            await uow.claims.record_status(
                claim_id=claim_id,
                seq=1,
                status=ClaimStatus.IN_REVIEW,
                reason="r",
                at=at(30),
                actor="w",
                assigned_adjuster="alice",
            )
        await uow.commit()
    return ids


def newest_first(ids: list[str], indexes: range | list[int]) -> list[str]:
    return [ids[n] for n in sorted(indexes, key=lambda n: (10 if n == 11 else n, ids[n]), reverse=True)]


async def test_paging_walks_every_claim_once_newest_first(session_factory, claims):
    pages = await page_through(session_factory, limit=10)

    assert [len(page) for page in pages] == [10, 10, 5]
    assert [item.claim_id for page in pages for item in page] == newest_first(claims, range(25))


async def test_a_page_that_ends_exactly_at_the_last_claim_has_no_next_cursor(session_factory, claims):
    pages = await page_through(session_factory, limit=5, org_id="org-2")

    assert [len(page) for page in pages] == [5]


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        ({"org_id": "org-1"}, list(range(20))),
        ({"payer_id": "ACMEHLTH"}, [0, 5, 10, 15, 20]),
        ({"status": ClaimStatus.IN_REVIEW}, [0, 1, 2, 3, 4]),
        ({"adjuster": "alice", "payer_id": "ACMEHLTH"}, [0]),
        ({"status": ClaimStatus.RECEIVED, "org_id": "org-2"}, [20, 21, 22, 23, 24]),
        ({"adjuster": "bob"}, []),
    ],
)
async def test_filters_combine(session_factory, claims, filters, expected):
    pages = await page_through(session_factory, limit=3, **filters)

    assert [item.claim_id for page in pages for item in page] == newest_first(claims, expected)


@pytest.mark.parametrize(
    "cursor",
    [
        "not-a-cursor",
        "%%%",
        base64.urlsafe_b64encode(b'["2026-03-01T09:00:00", "abc"]').decode(),  # naive time
        base64.urlsafe_b64encode(b'{"a": 1}').decode(),
        base64.urlsafe_b64encode(b"[1, 2]").decode(),
        "é",
    ],
)
async def test_a_malformed_cursor_is_refused(session_factory, cursor):
    async with UnitOfWork(session_factory) as uow:
        with pytest.raises(InvalidCursorError) as refused:
            await uow.claims.list_page(org_id=None, status=None, payer_id=None, adjuster=None, limit=5, cursor=cursor)
    assert isinstance(refused.value, RefusedError) and refused.value.code == "invalid_cursor"
