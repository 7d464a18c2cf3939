"""Claim listings and reads within a scope: newest first, filtered, paged with opaque cursors, and only the claims
the scope admits (an organization's, an adjuster's, a supervisor's team's), filtered in SQL."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.errors import InvalidCursorError
from db.records import EVERY_CLAIM, ClaimScope, ClaimSummary
from db.uow import UnitOfWork
from domain.errors import RefusedError
from domain.status import ClaimStatus
from tests.db.helpers import at, new_claim_id
from tests.domain.factories import make_claim


async def page_through(
    sessions: async_sessionmaker[AsyncSession], limit: int, scope: ClaimScope = EVERY_CLAIM, **filters
) -> list[list[ClaimSummary]]:
    pages: list[list[ClaimSummary]] = []
    cursor = None
    criteria = {"status": None, "payer_id": None, "adjuster": None, **filters}
    while True:
        async with UnitOfWork(sessions) as uow:
            page = await uow.claims.list_page(scope=scope, **criteria, limit=limit, cursor=cursor)
        pages.append(page.items)
        if page.next_cursor is None:
            return pages
        cursor = page.next_cursor


def org(org_id: str) -> ClaimScope:
    return ClaimScope(kind="organization", subject=org_id)


def assigned(adjuster_id: str) -> ClaimScope:
    return ClaimScope(kind="assigned", subject=adjuster_id)


def team_of(supervisor_id: str) -> ClaimScope:
    return ClaimScope(kind="team", subject=supervisor_id)


#: Adjusters beside the seed's team "review" (alice, bob, carol): another team with its supervisor, an inactive
#: supervisor of "review", and a supervisor in no team.
OTHER_ADJUSTERS = [
    {"adjuster_id": "erin", "supervisor": False, "active": True, "team": "west"},
    {"adjuster_id": "dave", "supervisor": True, "active": True, "team": "west"},
    {"adjuster_id": "frank", "supervisor": True, "active": False, "team": "review"},
    {"adjuster_id": "gina", "supervisor": True, "active": True, "team": None},
]


@pytest.fixture(scope="module")
async def other_adjusters(owner_engine) -> AsyncIterator[None]:
    """OTHER_ADJUSTERS in the adjuster table for this module; they cover a payer no claim here has."""
    async with owner_engine.begin() as connection:  # the application's role may only read adjusters
        for row in OTHER_ADJUSTERS:
            await connection.execute(
                text(
                    "INSERT INTO adjuster (adjuster_id, name, payer_ids, authority_limit, supervisor, active, team, "
                    "created_at, updated_at) VALUES (:adjuster_id, :adjuster_id, '[\"NOBODY\"]', 100, :supervisor, "
                    ":active, :team, now(), now())"
                ),
                row,
            )
    yield
    async with owner_engine.begin() as connection:
        await connection.execute(
            text("DELETE FROM adjuster WHERE adjuster_id = ANY(:ids)"),
            {"ids": [r["adjuster_id"] for r in OTHER_ADJUSTERS]},
        )


@pytest.fixture
async def claims(session_factory, other_adjusters) -> list[str]:
    """25 claims: 20 in org-1, 5 in org-2; every 5th for ACMEHLTH; claims 0-4 in review with alice, 5-6 with bob,
    7 in review with nobody, 8 in review with erin (team west), 9 pending with nobody.
    Claims 10 and 11 share a received time, to page across a tie."""
    ids = [new_claim_id() for _ in range(25)]
    desks: dict[int, tuple[ClaimStatus, str | None]] = {
        **{n: (ClaimStatus.IN_REVIEW, "alice") for n in range(5)},
        5: (ClaimStatus.IN_REVIEW, "bob"),
        6: (ClaimStatus.IN_REVIEW, "bob"),
        7: (ClaimStatus.IN_REVIEW, None),
        8: (ClaimStatus.IN_REVIEW, "erin"),
        9: (ClaimStatus.PENDING, None),
    }
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
        for n, (status, adjuster) in desks.items():
            await uow.claims.record_status(
                claim_id=ids[n], seq=1, status=status, reason="r", at=at(30), actor="w", assigned_adjuster=adjuster
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
    pages = await page_through(session_factory, limit=5, scope=org("org-2"))

    assert [len(page) for page in pages] == [5]


@pytest.mark.parametrize(
    ("scope", "filters", "expected"),
    [
        (org("org-1"), {}, list(range(20))),
        (EVERY_CLAIM, {"payer_id": "ACMEHLTH"}, [0, 5, 10, 15, 20]),
        (EVERY_CLAIM, {"status": ClaimStatus.IN_REVIEW}, [0, 1, 2, 3, 4, 5, 6, 7, 8]),
        (EVERY_CLAIM, {"adjuster": "alice", "payer_id": "ACMEHLTH"}, [0]),
        (org("org-2"), {"status": ClaimStatus.RECEIVED}, [20, 21, 22, 23, 24]),
        (EVERY_CLAIM, {"adjuster": "nobody"}, []),
    ],
)
async def test_filters_combine(session_factory, claims, scope, filters, expected):
    pages = await page_through(session_factory, limit=3, scope=scope, **filters)

    assert [item.claim_id for page in pages for item in page] == newest_first(claims, expected)


@pytest.mark.parametrize(
    ("scope", "expected"),
    [
        pytest.param(org("org-2"), [20, 21, 22, 23, 24], id="an organization: its own claims"),
        pytest.param(org("org-3"), [], id="an organization with no claims: none"),
        pytest.param(assigned("alice"), [0, 1, 2, 3, 4], id="an adjuster: the claims assigned to them"),
        pytest.param(assigned("bob"), [5, 6], id="another adjuster: theirs only"),
        pytest.param(assigned("carol"), [], id="an adjuster with nothing assigned: none"),
        pytest.param(
            team_of("carol"), [0, 1, 2, 3, 4, 5, 6, 7], id="a supervisor: the team's claims and unassigned reviews"
        ),
        pytest.param(team_of("dave"), [7, 8], id="another team's supervisor: its claims and unassigned reviews"),
        pytest.param(team_of("alice"), [], id="an adjuster who is no supervisor: no team's"),
        pytest.param(team_of("frank"), [], id="an inactive supervisor: none"),
        pytest.param(team_of("gina"), [], id="a supervisor in no team: none"),
        pytest.param(team_of("mallory"), [], id="a supervisor not in the adjuster table: none"),
    ],
)
async def test_a_scope_lists_only_the_claims_it_admits(session_factory, claims, scope, expected):
    pages = await page_through(session_factory, limit=4, scope=scope)

    assert [item.claim_id for page in pages for item in page] == newest_first(claims, expected)


async def test_filters_narrow_a_scope_and_never_widen_it(session_factory, claims):
    """An adjuster asking for another adjuster's claims, or an organization for another's payer, gets none of them."""
    assert await page_through(session_factory, limit=5, scope=assigned("alice"), adjuster="bob") == [[]]
    in_review = await page_through(session_factory, limit=50, scope=team_of("carol"), status=ClaimStatus.IN_REVIEW)
    assert [item.claim_id for item in in_review[0]] == newest_first(claims, [0, 1, 2, 3, 4, 5, 6, 7])


@pytest.mark.parametrize(
    ("scope", "visible"),
    [
        (org("org-1"), {0, 7, 8, 9}),
        (org("org-2"), set()),
        (assigned("alice"), {0}),
        (assigned("bob"), set()),
        (team_of("carol"), {0, 7}),
        (team_of("dave"), {7, 8}),
        (team_of("frank"), set()),
        (EVERY_CLAIM, {0, 7, 8, 9}),
    ],
)
async def test_get_record_finds_a_claim_only_within_the_scope(session_factory, claims, scope, visible):
    async with UnitOfWork(session_factory) as uow:
        found = {n for n in (0, 7, 8, 9) if await uow.claims.get_record(claims[n], scope=scope) is not None}

    assert found == visible


def test_a_scope_needs_a_subject_unless_it_admits_every_claim():
    with pytest.raises(ValueError, match="needs a subject"):
        ClaimScope(kind="assigned")
    with pytest.raises(ValueError, match="takes no subject"):
        ClaimScope(kind="all", subject="x")


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
            await uow.claims.list_page(
                scope=EVERY_CLAIM, status=None, payer_id=None, adjuster=None, limit=5, cursor=cursor
            )
    assert isinstance(refused.value, RefusedError) and refused.value.code == "invalid_cursor"
