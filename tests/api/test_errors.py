"""One error hierarchy, one table: every business error's status comes from its class, also when a workflow
sends it back as a refusal that carries only its code."""

from __future__ import annotations

import pytest

from api.errors import STATUS_OF_CODE, status_of, status_of_class
from db.errors import ClaimNotFoundError, InvalidCursorError
from domain.decision import DecisionConflictError, DecisionRefusedError
from domain.errors import DomainError
from domain.status import InformationNotRequestedError, InvalidTransitionError, NotCancellableError
from services.errors import (
    ClaimFinalError,
    ForbiddenError,
    IdempotencyKeyReusedError,
    NotFoundError,
    UpdateNotFinishedError,
    UpdateRefusedError,
    WorkflowServiceUnavailableError,
)
from tests.support.stack import Stack


@pytest.mark.parametrize(
    ("error", "status"),
    [
        (DecisionConflictError, 409),
        (NotCancellableError, 409),
        (InformationNotRequestedError, 409),
        (InvalidTransitionError, 409),
        (ClaimFinalError, 409),
        (IdempotencyKeyReusedError, 409),
        (DecisionRefusedError, 422),
        (InvalidCursorError, 400),
        (NotFoundError, 404),
        (ClaimNotFoundError, 404),
        (ForbiddenError, 403),
        (WorkflowServiceUnavailableError, 503),
        (UpdateNotFinishedError, 504),
    ],
)
def test_each_error_class_has_its_status_and_its_code_the_same(error: type[DomainError], status: int) -> None:
    assert status_of_class(error)[0] == status
    assert STATUS_OF_CODE[error.code][0] == status


@pytest.mark.parametrize(
    "rule", [DecisionConflictError, DecisionRefusedError, NotCancellableError, InformationNotRequestedError]
)
def test_a_workflows_refusal_answers_as_the_refusing_rules_class(rule: type[DomainError]) -> None:
    refusal = UpdateRefusedError(rule.code, "refused by the workflow")
    assert refusal.code == rule.code
    assert status_of(refusal) == status_of_class(rule)


def test_a_refusal_with_a_code_no_class_has_is_a_conflict() -> None:
    assert status_of(UpdateRefusedError("nothing_to_pay", "x"))[0] == 409
    assert status_of(UpdateRefusedError(None, "x")) == (409, "Conflict")


async def test_bad_cursors_of_claims_and_codes_are_one_problem(stack: Stack) -> None:
    claims = await stack.api.get("/v1/claims", params={"cursor": "not-a-cursor"}, headers=stack.headers)
    codes = await stack.api.get("/v1/codes/cpt", params={"cursor": "not-a-cursor"}, headers=stack.headers)
    for response in (claims, codes):
        assert response.status_code == 400
        assert {k: response.json()[k] for k in ("code", "title", "detail")} == {
            "code": "invalid_cursor",
            "title": "Bad cursor",
            "detail": InvalidCursorError().message,
        }


async def test_a_cursor_of_one_listing_is_refused_by_the_other(stack: Stack) -> None:
    first = (await stack.api.get("/v1/codes/cpt", params={"limit": 1}, headers=stack.headers)).json()
    assert first["next_cursor"]
    response = await stack.api.get("/v1/claims", params={"cursor": first["next_cursor"]}, headers=stack.headers)
    assert response.status_code == 400 and response.json()["code"] == "invalid_cursor"
