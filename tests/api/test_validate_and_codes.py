"""POST /v1/claims/validate and the code tables: read-only checks, admin-maintained codes with dates."""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from typing import Any

from sqlalchemy import text

from api.auth import Role
from tests.api.test_claim_lifecycle import member
from tests.support.stack import Stack, auth

ADMIN = auth(Role.ADMIN, sub="root", org=None)


async def claim_rows(stack: Stack) -> int:
    async with stack.sessions() as session:
        return int((await session.execute(text("SELECT count(*) FROM claim"))).scalar_one())


async def test_validate_a_good_claim_writes_nothing_and_starts_nothing(stack: Stack) -> None:
    before = await claim_rows(stack)
    response = await stack.api.post("/v1/claims/validate", json=member("M"), headers=stack.headers)
    assert response.status_code == 200, response.text
    assert response.json() == {"valid": True, "errors": [], "warnings": []}
    assert await claim_rows(stack) == before


async def test_validate_reports_every_failing_edit_at_once(stack: Stack) -> None:
    body = member("M")
    body["diagnosis_codes"] = ["E11", "E11.9", "e119"]  # a category, and the same code twice (dotted and not)
    body["billing_provider"]["npi"] = "1234567890"  # bad check digit
    body["lines"][0]["charge"] = "0.00"
    body["lines"][0]["procedure_code"] = "8005"
    response = await stack.api.post("/v1/claims/validate", json=body, headers=stack.headers)
    assert response.status_code == 200
    result = response.json()
    assert result["valid"] is False
    found = {(e["rule_id"], e["path"]) for e in result["errors"]}
    assert {
        ("icd10.billable", "diagnosis_codes[0]"),
        ("npi.check_digit", "billing_provider.npi"),
        ("charge.positive", "lines[0].charge"),
        ("procedure.format", "lines[0].procedure_code"),
        ("total_charge.sum", "total_charge"),
    } <= found
    assert any(e["rule_id"] == "icd10.duplicate" for e in result["errors"])
    assert all(e["message"] and e["severity"] == "error" for e in result["errors"])


async def test_validate_shape_errors_are_still_422(stack: Stack) -> None:
    body = member("M")
    body["lines"][0]["charge"] = "-1"
    response = await stack.api.post("/v1/claims/validate", json=body, headers=stack.headers)
    assert response.status_code == 422
    assert response.json()["errors"][0]["path"] == "lines[0].charge"


async def test_duplicate_of_an_accepted_claim_is_caught(stack: Stack) -> None:
    body = member("M")
    first = await stack.submit(body)
    await stack.wait_for(first, "closed")
    response = await stack.api.post("/v1/claims/validate", json=body, headers=stack.headers)
    errors = response.json()["errors"]
    assert [(e["rule_id"], e["path"]) for e in errors] == [("claim.duplicate", "lines[0]")]
    assert first in errors[0]["message"]
    second = await stack.submit(body)
    claim = await stack.wait_for(second, "invalid")
    assert [e["rule_id"] for e in claim["validation_errors"]] == ["claim.duplicate"]


async def test_another_organizations_identical_claim_is_no_duplicate_and_is_never_named(stack: Stack) -> None:
    body = member("M")
    theirs = await stack.submit(body)
    await stack.wait_for(theirs, "closed")
    other_org = auth(Role.SUBMITTER, sub="olga", org="org-elsewhere")
    response = await stack.api.post("/v1/claims/validate", json=body, headers=other_org)
    assert response.status_code == 200
    assert response.json()["errors"] == []
    assert theirs not in response.text
    mine = (await stack.api.post("/v1/claims", json=body, headers=other_org)).json()["claim_id"]
    claim = await stack.wait_for(mine, "closed", headers=other_org)
    assert claim["validation_errors"] == []


async def test_warnings_do_not_stop_a_claim_and_stay_with_it(stack: Stack) -> None:
    body = member("M")
    body["diagnosis_codes"] = ["E11.9", "I10", "E78.5"]  # E78.5: no line points at it
    claim_id = await stack.submit(body)
    claim = await stack.wait_for(claim_id, "closed")
    assert [w["rule_id"] for w in claim["validation_warnings"]] == ["icd10.unreferenced"]
    assert claim["validation_errors"] == []


async def test_codes_search_by_prefix_and_words_paged(stack: Stack) -> None:
    by_prefix = (await stack.api.get("/v1/codes/icd10", params={"prefix": "E11"}, headers=stack.headers)).json()
    assert "E11.9" in {c["code"] for c in by_prefix["data"]}
    assert all(c["code"].startswith("E11") for c in by_prefix["data"])
    undotted = (await stack.api.get("/v1/codes/icd10", params={"prefix": "e119"}, headers=stack.headers)).json()
    assert [c["code"] for c in undotted["data"]] == ["E11.9"]
    words = (await stack.api.get("/v1/codes/icd10", params={"q": "diabetes"}, headers=stack.headers)).json()
    assert words["data"] and all("diabetes" in c["description"].lower() for c in words["data"])
    first = (await stack.api.get("/v1/codes/cpt", params={"limit": 3}, headers=stack.headers)).json()
    second = (
        await stack.api.get("/v1/codes/cpt", params={"limit": 3, "cursor": first["next_cursor"]}, headers=stack.headers)
    ).json()
    codes = [c["code"] for c in first["data"] + second["data"]]
    assert codes == sorted(codes) and len(set(codes)) == 6
    assert (await stack.api.get("/v1/codes/cpt", params={"cursor": "%%%"}, headers=stack.headers)).status_code == 400


async def test_only_admins_write_codes(stack: Stack) -> None:
    body = {"code": "87999", "description": "unlisted microbiology procedure", "effective_date": "2020-01-01"}
    for role, sub, org in (
        (Role.SUBMITTER, "s", "org-test"),
        (Role.ADJUSTER, "alice", None),
        (Role.SUPERVISOR, "carol", None),
    ):
        response = await stack.api.post("/v1/codes/cpt", json=body, headers=auth(role, sub=sub, org=org))
        assert response.status_code == 403


async def test_bad_codes_and_windows_are_refused(stack: Stack) -> None:
    bad_format = await stack.api.post(
        "/v1/codes/cpt", json={"code": "ABCDE", "description": "x", "effective_date": "2020-01-01"}, headers=ADMIN
    )
    assert bad_format.status_code == 422 and bad_format.json()["errors"][0]["path"] == "code"
    backwards = await stack.api.post(
        "/v1/codes/icd10",
        json={"code": "Z99.89", "description": "x", "effective_date": "2020-01-01", "termination_date": "2019-01-01"},
        headers=ADMIN,
    )
    assert backwards.status_code == 422
    assert (await stack.api.patch("/v1/codes/cpt/00000", json={"description": "x"}, headers=ADMIN)).status_code == 404
    assert (await stack.api.patch("/v1/codes/cpt/80053", json={"description": None}, headers=ADMIN)).status_code == 422


async def test_code_retired_last_year_fails_this_years_claims_and_passes_last_years(stack: Stack) -> None:
    code = f"{uuid.uuid4().int % 9000 + 1000}U"  # a fresh PLA-style code
    created = await stack.api.post(
        "/v1/codes/cpt",
        json={"code": code, "description": "proprietary lab analysis", "effective_date": "2015-01-01"},
        headers=ADMIN,
    )
    assert created.status_code == 201, created.text
    assert created.headers["Location"] == f"/v1/codes/cpt/{code}"
    again = await stack.api.post(
        "/v1/codes/cpt", json={"code": code, "description": "again", "effective_date": "2015-01-01"}, headers=ADMIN
    )
    assert again.status_code == 409
    retired_on = date.today() - timedelta(days=200)
    patched = await stack.api.patch(
        f"/v1/codes/cpt/{code}", json={"termination_date": retired_on.isoformat()}, headers=ADMIN
    )
    assert patched.status_code == 200 and patched.json()["termination_date"] == retired_on.isoformat()

    def claim_on(service: date) -> dict[str, Any]:
        body = member("M")
        body["lines"][0]["procedure_code"] = code
        body["lines"][0]["service_date"] = service.isoformat()
        return body

    this_year = (
        await stack.api.post(
            "/v1/claims/validate", json=claim_on(date.today() - timedelta(days=5)), headers=stack.headers
        )
    ).json()
    assert [(e["rule_id"], e["path"]) for e in this_year["errors"]] == [("procedure.active", "lines[0].procedure_code")]
    last_year = (
        await stack.api.post(
            "/v1/claims/validate", json=claim_on(retired_on - timedelta(days=30)), headers=stack.headers
        )
    ).json()
    assert last_year["errors"] == []


async def test_a_code_search_with_too_many_words_is_refused(stack: Stack) -> None:
    words = " ".join(["blood"] * 9)
    response = await stack.api.get("/v1/codes/icd10", params={"q": words}, headers=stack.headers)
    assert response.status_code == 422
    assert response.json()["errors"][0]["path"] == "q"
    assert (
        await stack.api.get("/v1/codes/icd10", params={"q": "type diabetes"}, headers=stack.headers)
    ).status_code == 200
