"""Bad request bodies: each gets a 4xx naming the field; no workflow starts and no row is written."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import text

from tests.domain.factories import claim_body
from tests.support.stack import Stack

Mutation = Callable[[dict[str, Any]], Any]


def setting(path: str, value: Any) -> Mutation:
    def mutate(body: dict[str, Any]) -> dict[str, Any]:
        target: Any = body
        *parents, last = path.split(".")
        for part in parents:
            target = target[int(part)] if part.isdigit() else target[part]
        target[int(last) if last.isdigit() else last] = value
        return body

    return mutate


def removing(path: str) -> Mutation:
    def mutate(body: dict[str, Any]) -> dict[str, Any]:
        target: Any = body
        *parents, last = path.split(".")
        for part in parents:
            target = target[int(part)] if part.isdigit() else target[part]
        del target[last]
        return body

    return mutate


CASES: list[tuple[str, Mutation, str]] = [
    ("empty object", lambda b: {}, "patient"),
    ("a JSON array", lambda b: [b], "body"),
    ("missing patient", removing("patient"), "patient"),
    ("missing total", removing("total_charge"), "total_charge"),
    ("insurance null", setting("insurance", None), "insurance"),
    ("date of birth a number", setting("patient.date_of_birth", 19800402), "patient.date_of_birth"),
    ("date of birth not a date", setting("patient.date_of_birth", "yesterday"), "patient.date_of_birth"),
    ("impossible service date", setting("lines.0.service_date", "2026-13-45"), "lines[0].service_date"),
    ("no lines", setting("lines", []), "lines"),
    ("negative charge", setting("lines.0.charge", "-5.00"), "lines[0].charge"),
    ("sub-cent charge", setting("lines.0.charge", "1.005"), "lines[0].charge"),
    ("charge not a number", setting("lines.0.charge", "forty"), "lines[0].charge"),
    ("charge NaN", setting("lines.0.charge", "NaN"), "lines[0].charge"),
    ("negative total", setting("total_charge", "-45.00"), "total_charge"),
    ("negative units", setting("lines.0.units", -1), "lines[0].units"),
    ("units a word", setting("lines.0.units", "one"), "lines[0].units"),
    ("unknown top-level field", setting("ssn", "123-45-6789"), "ssn"),
    ("unknown nested field", setting("patient.ssn", "123-45-6789"), "patient.ssn"),
    ("sex not F/M/U", setting("patient.sex", "X"), "patient.sex"),
    ("frequency code 9", setting("frequency_code", "9"), "frequency_code"),
    ("diagnoses a string", setting("diagnosis_codes", "E11.9"), "diagnosis_codes"),
    ("no diagnosis pointers", setting("lines.0.diagnosis_pointers", []), "lines[0].diagnosis_pointers"),
    ("modifiers a string", setting("lines.0.modifiers", "26"), "lines[0].modifiers"),
    ("51 lines", lambda b: setting("lines", [copy.deepcopy(b["lines"][0]) for _ in range(51)])(b), "lines"),
    ("control number too long", setting("patient_control_number", "X" * 39), "patient_control_number"),
    ("empty payer id", setting("insurance.payer_id", ""), "insurance.payer_id"),
]


async def counts(stack: Stack) -> tuple[int, int]:
    async with stack.sessions() as session:
        rows = (await session.execute(text("SELECT count(*) FROM claim"))).scalar_one()
    workflows = [w async for w in stack.temporal.list_workflows(f'TaskQueue = "{stack.task_queue}"')]
    return int(rows), len(workflows)


@pytest.mark.parametrize(("name", "mutate", "path"), CASES, ids=[c[0] for c in CASES])
async def test_bad_body_is_422_with_the_field_path(stack: Stack, name: str, mutate: Mutation, path: str) -> None:
    before = await counts(stack)
    body = mutate(claim_body())
    response = await stack.api.post(
        "/v1/claims", json=body, headers={**stack.headers, "Idempotency-Key": f"bad-{name.replace(' ', '-')}"}
    )
    assert response.status_code == 422, response.text
    problem = response.json()
    assert response.headers["content-type"] == "application/problem+json"
    assert problem["status"] == 422 and problem["code"] == "invalid_request"
    assert path in {error["path"] for error in problem["errors"]}, problem["errors"]
    assert await counts(stack) == before


async def test_body_that_is_not_json_is_422(stack: Stack) -> None:
    before = await counts(stack)
    response = await stack.api.post(
        "/v1/claims", content=b"{not json", headers={**stack.headers, "Content-Type": "application/json"}
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["path"] == "body"
    assert await counts(stack) == before


async def test_ten_megabyte_body_is_413_and_not_read(stack: Stack) -> None:
    before = await counts(stack)
    body = claim_body()
    body["padding"] = "x" * (10 * 1024 * 1024)
    response = await stack.api.post(
        "/v1/claims", content=json.dumps(body).encode(), headers={**stack.headers, "Content-Type": "application/json"}
    )
    assert response.status_code == 413
    assert response.json()["errors"][0]["path"] == "body"
    assert await counts(stack) == before


async def test_bad_idempotency_key_is_422(stack: Stack) -> None:
    before = await counts(stack)
    response = await stack.api.post(
        "/v1/claims", json=claim_body(), headers={**stack.headers, "Idempotency-Key": "has spaces/and slashes"}
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["path"] == "Idempotency-Key"
    assert await counts(stack) == before


async def test_no_claim_was_started_on_this_queue(stack: Stack) -> None:
    assert (await counts(stack))[1] == 0
