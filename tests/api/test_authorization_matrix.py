"""The authorization matrix: every route of the app, for every kind of caller, on a claim the caller has a part in
and one it has none in: the status the caller gets. Generated from the app's route table: a route without an entry
here fails the test, so a new route cannot ship without saying who may call it.

The claims are set up once and are final, so every request that would change state is refused (409) where it gets
past authorization, and the matrix can run in any order: the own claim was decided by its adjuster and is closed;
the foreign claim is another organization's, invalid, and assigned to nobody.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from fastapi import APIRouter, FastAPI
from fastapi.routing import iter_route_contexts

from api.auth import Role
from tests.api.test_claim_lifecycle import member
from tests.support.stack import Stack, auth

#: The callers, in the order of every row below.
CALLERS = (
    "none",  # no token
    "submitter",  # a submitter of the organization that owns the own claim
    "other_submitter",  # a submitter of another organization (the one that owns the foreign claim)
    "assigned",  # the adjuster the own claim is assigned to
    "not_assigned",  # another adjuster of the same team
    "supervisor",  # the supervisor of that team (carol)
    "admin",
)
OWN_ORG, OTHER_ORG = "org-matrix", "org-matrix-other"


def row(*statuses: int) -> dict[str, int]:
    return dict(zip(CALLERS, statuses, strict=True))


def every(status: int) -> dict[str, int]:
    return row(*[status] * len(CALLERS))


#: Expected statuses: per route, the same row for both claims ("any"), or one row per claim ("own", "foreign").
#: 401 no token; 403 a role the route does not admit; 404 a claim outside the caller's scope; 409 a claim the
#: caller may see but that is final; 422 a body that fails validation (sent on purpose where a call would write).
MATRIX: dict[tuple[str, str], dict[str, dict[str, int]]] = {
    ("GET", "/openapi.json"): {"any": every(200)},
    ("GET", "/docs"): {"any": every(200)},
    ("GET", "/docs/oauth2-redirect"): {"any": every(200)},
    ("GET", "/redoc"): {"any": every(200)},
    ("GET", "/healthz"): {"any": every(200)},
    ("GET", "/readyz"): {"any": every(200)},
    ("GET", "/metrics"): {"any": every(200)},  # an operator endpoint inside the network, like /healthz
    ("POST", "/v1/claims"): {"any": row(401, 422, 422, 403, 403, 403, 422)},
    ("POST", "/v1/claims/validate"): {"any": row(401, 200, 200, 403, 403, 403, 200)},
    ("GET", "/v1/claims"): {"any": row(401, 200, 200, 200, 200, 200, 200)},
    ("GET", "/v1/claims/{claim_id}"): {
        "own": row(401, 200, 404, 200, 404, 200, 200),
        "foreign": row(401, 404, 200, 404, 404, 404, 200),
    },
    ("POST", "/v1/claims/{claim_id}/decision"): {
        "own": row(401, 403, 403, 409, 404, 409, 403),
        "foreign": row(401, 403, 403, 404, 404, 404, 403),
    },
    ("POST", "/v1/claims/{claim_id}/cancel"): {
        "own": row(401, 409, 404, 403, 403, 409, 409),
        "foreign": row(401, 404, 409, 403, 403, 404, 409),
    },
    ("POST", "/v1/claims/{claim_id}/information"): {
        "own": row(401, 409, 404, 403, 403, 403, 409),
        "foreign": row(401, 404, 409, 403, 403, 403, 409),
    },
    # an operator sends a ready claim: submitters of its organization and admins (409: neither claim is ready)
    ("POST", "/v1/claims/{claim_id}/submit"): {
        "own": row(401, 409, 404, 403, 403, 403, 409),
        "foreign": row(401, 404, 409, 403, 403, 403, 409),
    },
    # a corrected or void claim for a claim of the caller's organization: submitters and admins (422: bodies that are
    # refused, since the own claim is closed and would be corrected; the 404 for another organization's claim is in
    # tests/api/test_corrections.py)
    ("POST", "/v1/claims/{claim_id}/corrections"): {"any": row(401, 422, 422, 403, 403, 403, 422)},
    ("POST", "/v1/claims/{claim_id}/void"): {"any": row(401, 422, 422, 403, 403, 403, 422)},
    # an organization's integrations and payer routes: admins only (422: bodies that change nothing)
    ("GET", "/v1/organizations/{org_id}/integrations"): {"any": row(401, 403, 403, 403, 403, 403, 200)},
    ("POST", "/v1/organizations/{org_id}/integrations"): {"any": row(401, 403, 403, 403, 403, 403, 422)},
    ("PATCH", "/v1/organizations/{org_id}/integrations/{integration_id}"): {
        "any": row(401, 403, 403, 403, 403, 403, 422)
    },
    ("PUT", "/v1/organizations/{org_id}/payer-routes/{payer_id}"): {"any": row(401, 403, 403, 403, 403, 403, 422)},
    # adjusters and the assignment rules: admins only (422: bodies that change nothing)
    ("GET", "/v1/adjusters"): {"any": row(401, 403, 403, 403, 403, 403, 200)},
    ("POST", "/v1/adjusters"): {"any": row(401, 403, 403, 403, 403, 403, 422)},
    ("GET", "/v1/adjusters/{adjuster_id}"): {"any": row(401, 403, 403, 403, 403, 403, 200)},
    ("PATCH", "/v1/adjusters/{adjuster_id}"): {"any": row(401, 403, 403, 403, 403, 403, 422)},
    ("GET", "/v1/assignment-rules"): {"any": row(401, 403, 403, 403, 403, 403, 200)},
    ("PUT", "/v1/assignment-rules"): {"any": row(401, 403, 403, 403, 403, 403, 422)},
    ("GET", "/v1/assignment-rules/versions/{version}"): {"any": row(401, 403, 403, 403, 403, 403, 200)},
    # the risk screen's rules: admins only (422: a body without a kind changes nothing)
    ("GET", "/v1/risk/rules"): {"any": row(401, 403, 403, 403, 403, 403, 200)},
    ("PUT", "/v1/risk/rules/{rule_id}"): {"any": row(401, 403, 403, 403, 403, 403, 422)},
    ("GET", "/v1/codes/{kind}"): {"any": row(401, 200, 200, 200, 200, 200, 200)},
    ("GET", "/v1/codes/{kind}/{code}"): {"any": row(401, 200, 200, 200, 200, 200, 200)},
    ("POST", "/v1/codes/{kind}"): {"any": row(401, 403, 403, 403, 403, 403, 422)},
    ("PATCH", "/v1/codes/{kind}/{code}"): {"any": row(401, 403, 403, 403, 403, 403, 422)},
    # the processor's webhook takes no bearer token: unsigned, it is refused whoever calls
    ("POST", "/v1/webhooks/processor/{claim_id}"): {"own": every(401), "foreign": every(401)},
    ("GET", "/v1/audit/verify"): {"any": row(401, 403, 403, 403, 403, 403, 200)},
    # the 837P names the patient and their address: submitters only (409: the own claim has no addresses, the
    # foreign one is invalid, so neither has an 837P)
    ("GET", "/v1/claims/{claim_id}/x12/837"): {
        "own": row(401, 409, 404, 403, 403, 403, 403),
        "foreign": row(401, 404, 409, 403, 403, 403, 403),
    },
    # a member's plan data, for billing: submitters of any organization (a member belongs to none); 422: no body
    ("POST", "/v1/eligibility"): {"any": row(401, 422, 422, 403, 403, 403, 403)},
    # a claim's documents: whoever may read the claim may list and upload them (415: a JSON body, not a multipart
    # upload, so nothing is stored); a document id nobody has is 404 to everyone
    ("POST", "/v1/claims/{claim_id}/documents"): {
        "own": row(401, 415, 404, 415, 404, 415, 415),
        "foreign": row(401, 404, 415, 404, 404, 404, 415),
    },
    ("GET", "/v1/claims/{claim_id}/documents"): {
        "own": row(401, 200, 404, 200, 404, 200, 200),
        "foreign": row(401, 404, 200, 404, 404, 404, 200),
    },
    ("GET", "/v1/documents/{document_id}"): {"any": row(401, 404, 404, 404, 404, 404, 404)},
    ("GET", "/v1/documents"): {"any": row(401, 200, 200, 200, 200, 200, 200)},
    # queues: an adjuster's (or supervisor's) own; every queue of a team for its supervisor, all for admins
    ("GET", "/v1/queues/mine"): {"any": row(401, 403, 403, 200, 200, 200, 403)},
    ("GET", "/v1/queues"): {"any": row(401, 403, 403, 403, 403, 200, 200)},
    # reassignment: supervisors and admins, on a claim they can see (409: the own claim is closed, the foreign invalid)
    ("POST", "/v1/claims/{claim_id}/reassign"): {
        "own": row(401, 403, 403, 403, 403, 409, 409),
        "foreign": row(401, 403, 403, 403, 403, 404, 409),
    },
    # an organization's subscriptions: its submitters (an admin belongs to no organization); ids nobody has: 404
    ("POST", "/v1/subscriptions"): {"any": row(401, 422, 422, 403, 403, 403, 403)},
    ("GET", "/v1/subscriptions"): {"any": row(401, 200, 200, 403, 403, 403, 403)},
    ("GET", "/v1/subscriptions/{subscription_id}"): {"any": row(401, 404, 404, 403, 403, 403, 403)},
    ("DELETE", "/v1/subscriptions/{subscription_id}"): {"any": row(401, 404, 404, 403, 403, 403, 403)},
    ("GET", "/v1/subscriptions/{subscription_id}/deliveries"): {"any": row(401, 404, 404, 403, 403, 403, 403)},
    ("POST", "/v1/subscriptions/{subscription_id}/deliveries/{claim_id}/{seq}/redeliver"): {
        "any": row(401, 404, 404, 403, 403, 403, 403)
    },
    # event streams: whoever may read (400: a Last-Event-ID that is no position, so no stream is left open)
    ("GET", "/v1/events"): {"any": row(401, 400, 400, 400, 400, 400, 400)},
    ("GET", "/v1/claims/{claim_id}/events"): {
        "own": row(401, 400, 404, 400, 404, 400, 400),
        "foreign": row(401, 404, 400, 404, 404, 404, 400),
    },
}

#: What each route is sent (beyond the caller's token): bodies that are refused or change nothing.
BODIES: dict[tuple[str, str], Any] = {
    ("POST", "/v1/claims"): {},  # no claim: 422 once authorised, so nothing is submitted
    ("POST", "/v1/claims/validate"): member("M"),  # read-only
    ("POST", "/v1/claims/{claim_id}/decision"): {"action": "approve"},
    ("POST", "/v1/claims/{claim_id}/cancel"): {},
    ("POST", "/v1/claims/{claim_id}/information"): {"note": "requisition attached"},
    ("POST", "/v1/claims/{claim_id}/corrections"): {},  # no claim: 422 once authorised, so nothing is corrected
    ("POST", "/v1/claims/{claim_id}/void"): {"reason": 5},  # not a note: 422 once authorised, so nothing is voided
    ("POST", "/v1/organizations/{org_id}/integrations"): {},  # no integration: 422 for an admin
    ("PATCH", "/v1/organizations/{org_id}/integrations/{integration_id}"): {"enabled": "sometimes"},
    ("PUT", "/v1/organizations/{org_id}/payer-routes/{payer_id}"): {},
    ("POST", "/v1/adjusters"): {},  # no adjuster: 422 for an admin
    ("PATCH", "/v1/adjusters/{adjuster_id}"): {"capacity": 0},  # 422 for an admin, so alice is unchanged
    ("PUT", "/v1/assignment-rules"): {"rules": []},  # 422 for an admin, so no new version
    ("PUT", "/v1/risk/rules/{rule_id}"): {},  # no kind: 422 for an admin, so no rule changes
    ("POST", "/v1/codes/{kind}"): {},  # no code: 422 for an admin
    ("PATCH", "/v1/codes/{kind}/{code}"): {"billable": "sometimes"},  # 422 for an admin
    ("POST", "/v1/webhooks/processor/{claim_id}"): {"payer_claim_id": "P-1"},
    ("POST", "/v1/eligibility"): {},  # no inquiry: 422 once authorised, so no payer is asked
    ("POST", "/v1/claims/{claim_id}/documents"): {},  # not multipart: 415 once the claim is found, nothing stored
    ("POST", "/v1/claims/{claim_id}/reassign"): {"reason": "matrix"},  # the rules would choose; both claims are done
    ("POST", "/v1/subscriptions"): {},  # no url or email: 422 for a submitter, nothing subscribed
}
#: Headers some routes are sent besides the token: a stream is asked to resume from a position that is none.
HEADERS: dict[tuple[str, str], dict[str, str]] = {
    ("GET", "/v1/events"): {"Last-Event-ID": "not-a-position"},
    ("GET", "/v1/claims/{claim_id}/events"): {"Last-Event-ID": "not-a-position"},
}
PATH_PARAMETERS = {
    "kind": "cpt",
    "code": "80053",
    "org_id": OWN_ORG,
    "integration_id": "sandbox",
    "payer_id": "SANDBOX",
    "document_id": "0" * 32,
    "rule_id": "duplicate.exact",
    "adjuster_id": "alice",
    "version": "1",
    "subscription_id": "0" * 32,
    "seq": "0",
}


def route_table(app: FastAPI) -> set[tuple[str, str]]:
    """Every (method, path template) the app answers; HEAD goes with its GET."""
    return {
        (method, context.path)
        for context in iter_route_contexts(app.routes)
        for method in (context.methods or set()) - {"HEAD"}
    }


@dataclass(frozen=True)
class Setup:
    own: str
    foreign: str
    headers: dict[str, dict[str, str]]


@pytest.fixture(scope="module")
async def setup(stack: Stack) -> Setup:
    """The own claim (OWN_ORG's: denied by the payer, approved by its adjuster, closed) and the foreign claim
    (OTHER_ORG's: invalid, never assigned), and a token per caller."""
    submitter, other_submitter = auth(Role.SUBMITTER, "matrix", OWN_ORG), auth(Role.SUBMITTER, "other", OTHER_ORG)
    own = await submit(stack, member("DENY"), submitter)
    assigned = (await stack.wait_for(own, "in_review", headers=submitter))["assigned_adjuster"]
    approved = await stack.api.post(
        f"/v1/claims/{own}/decision", json={"action": "approve"}, headers=auth(Role.ADJUSTER, assigned, None)
    )
    assert approved.status_code == 200, approved.text
    closed = await stack.wait_for(own, "closed", headers=submitter)
    assert closed["assigned_adjuster"] == assigned
    invalid = member("M")
    invalid["lines"][0]["charge"] = invalid["total_charge"] = "0.00"
    foreign = await submit(stack, invalid, other_submitter)
    assert (await stack.wait_for(foreign, "invalid", headers=other_submitter))["assigned_adjuster"] is None
    headers = {
        "none": {},
        "submitter": submitter,
        "other_submitter": other_submitter,
        "assigned": auth(Role.ADJUSTER, assigned, None),
        "not_assigned": auth(Role.ADJUSTER, "bob" if assigned == "alice" else "alice", None),
        "supervisor": auth(Role.SUPERVISOR, "carol", None),
        "admin": auth(Role.ADMIN, "root", None),
    }
    return Setup(own=own, foreign=foreign, headers=headers)


async def submit(stack: Stack, body: dict[str, Any], headers: dict[str, str]) -> str:
    response = await stack.api.post("/v1/claims", json=body, headers=headers)
    assert response.status_code == 202, response.text
    claim_id: str = response.json()["claim_id"]
    return claim_id


def app_of(stack: Stack) -> FastAPI:
    """The app the stack's client speaks to."""
    app: FastAPI = stack.api._transport.app  # type: ignore[attr-defined]
    return app


def test_every_route_has_an_entry_and_every_entry_a_route(stack: Stack) -> None:
    routes = route_table(app_of(stack))

    assert not routes - MATRIX.keys(), f"routes without an entry in MATRIX: {sorted(routes - MATRIX.keys())}"
    assert not MATRIX.keys() - routes, f"entries for routes the app does not have: {sorted(MATRIX.keys() - routes)}"


def test_the_route_table_is_read_from_the_app() -> None:
    """route_table sees the routes an app includes from its routers, not only the app's own."""
    app = FastAPI(docs_url=None, redoc_url=None, openapi_url=None)
    router = APIRouter(prefix="/v9")

    @router.delete("/things/{thing_id}")
    async def remove(thing_id: str) -> None: ...

    app.include_router(router)
    assert route_table(app) == {("DELETE", "/v9/things/{thing_id}")}


async def test_every_caller_gets_the_expected_status_on_every_route_for_both_claims(stack: Stack, setup: Setup) -> None:
    claims = {"own": setup.own, "foreign": setup.foreign}
    wrong: list[str] = []
    for (method, template), rows in MATRIX.items():
        for which, statuses in rows.items():
            path = template.format(**PATH_PARAMETERS, claim_id=claims.get(which, setup.own))
            for caller, expected in statuses.items():
                response = await stack.api.request(
                    method,
                    path,
                    json=BODIES.get((method, template)),
                    headers=setup.headers[caller] | HEADERS.get((method, template), {}),
                )
                if response.status_code != expected:
                    wrong.append(
                        f"{method} {template} [{which}] as {caller}: {response.status_code}, expected {expected}"
                        f" ({response.text[:120]})"
                    )

    assert not wrong, "\n".join(wrong)
    # nothing moved: the requests that got past authorization were refused
    assert (await stack.read(setup.own, setup.headers["submitter"]))["status"] == "closed"
    assert (await stack.read(setup.foreign, setup.headers["other_submitter"]))["status"] == "invalid"
