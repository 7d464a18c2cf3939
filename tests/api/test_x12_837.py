"""GET /v1/claims/{id}/x12/837 over the real stack: the claim's 837P, generated once (pyx12 accepts it), the same
bytes on every read, audited; only a submitter of the claim's organization may read it; control numbers never
repeat, however many interchanges are generated at once."""

from __future__ import annotations

import asyncio
from typing import Any

from api.auth import Role
from db.uow import UnitOfWork
from tests.activities.test_x12_837p import LAB_ADDRESS, PATIENT_ADDRESS, find, pyx12_errors
from tests.support.stack import Stack, auth
from workers.sample_claims import scenario_claim

EDI_X12 = "application/edi-x12"


def billable(prefix: str = "M") -> dict[str, Any]:
    """A sandbox scenario's claim with the addresses an 837P needs."""
    claim = scenario_claim(prefix)
    claim["patient"]["address"] = PATIENT_ADDRESS
    claim["billing_provider"]["address"] = LAB_ADDRESS
    return claim


async def snapshotted(stack: Stack, body: dict[str, Any]) -> str:
    """Submit a claim and wait until the payer has settled it (it was validated, snapshotted and sent)."""
    claim_id = await stack.submit(body)
    await stack.wait_for(claim_id, "closed")
    return claim_id


def path(claim_id: str) -> str:
    return f"/v1/claims/{claim_id}/x12/837"


async def test_the_837p_passes_pyx12_and_every_read_returns_the_same_bytes_audited(stack: Stack) -> None:
    claim_id = await snapshotted(stack, billable())

    first = await stack.api.get(path(claim_id), headers=stack.headers)
    second = await stack.api.get(path(claim_id), headers=stack.headers)

    assert first.status_code == 200, first.text
    assert first.headers["content-type"] == EDI_X12
    assert first.headers["content-disposition"] == f'attachment; filename="claim-{claim_id}-837P.x12"'
    assert second.content == first.content
    assert pyx12_errors(first.text) == []
    [bht] = find(first.text, "BHT")
    assert bht[3] == claim_id
    async with UnitOfWork(stack.sessions) as uow:
        reads = [e for e in await uow.audit.list_for_claim(claim_id) if e.action == "claim.x12.read"]
    isa13 = int(first.text.split("*")[13])
    assert [(e.actor, e.details) for e in reads] == [
        ("submitter:tester", {"transaction_set": "837P", "interchange_control_number": isa13, "generated": True}),
        ("submitter:tester", {"transaction_set": "837P", "interchange_control_number": isa13, "generated": False}),
    ]


async def test_a_dependent_patient_is_billed_under_the_subscriber_from_reference_data(stack: Stack) -> None:
    body = billable()
    # Jane Sample is the seeded SANDBOX member SBX100001 (db/seed/patients.json); the patient is her child
    body["insurance"]["member_id"] = body["patient"]["member_id"] = "SBX100001"
    body["patient"].update(first_name="Leo", relationship_to_subscriber="19")
    claim_id = await snapshotted(stack, body)

    response = await stack.api.get(path(claim_id), headers=stack.headers)

    assert response.status_code == 200, response.text
    assert pyx12_errors(response.text) == []
    assert find(response.text, "NM1", "IL")[0][3:5] == ["Sample", "Jane"]
    assert find(response.text, "NM1", "QC") == [["NM1", "QC", "1", "Ruiz", "Leo"]]


async def test_a_referring_provider_given_by_npi_is_named_from_reference_data_in_loop_2310a(stack: Stack) -> None:
    body = billable()
    body["referring_provider"] = {"npi": "1555123458"}  # seeded as "Dr. Pat Example (fictional)" (providers.json)
    claim_id = await snapshotted(stack, body)

    response = await stack.api.get(path(claim_id), headers=stack.headers)

    assert response.status_code == 200, response.text
    assert pyx12_errors(response.text) == []
    assert find(response.text, "NM1", "DN") == [
        ["NM1", "DN", "1", "Dr. Pat Example (fictional)", "", "", "", "", "XX", "1555123458"]
    ]


async def test_only_a_submitter_of_the_claims_organization_reads_its_837p(stack: Stack) -> None:
    claim_id = await snapshotted(stack, billable())

    other_org = await stack.api.get(path(claim_id), headers=auth(Role.SUBMITTER, "eve", "org-other"))
    adjuster = await stack.api.get(path(claim_id), headers=auth(Role.ADJUSTER, "alice", None))
    admin = await stack.api.get(path(claim_id), headers=auth(Role.ADMIN, "root", None))
    unknown = await stack.api.get(path("0" * 32), headers=stack.headers)

    assert other_org.status_code == 404 and other_org.json()["code"] == "not_found"
    assert adjuster.status_code == admin.status_code == 403
    assert unknown.status_code == 404
    async with UnitOfWork(stack.sessions) as uow:  # nothing was generated for the refused callers
        assert await uow.x12.get(claim_id, "837P") is None


async def test_a_claim_without_the_addresses_an_837p_needs_is_409_naming_them(stack: Stack) -> None:
    claim_id = await snapshotted(stack, scenario_claim("M"))

    response = await stack.api.get(path(claim_id), headers=stack.headers)

    assert response.status_code == 409
    problem = response.json()
    assert problem["code"] == "x12_claim_incomplete"
    assert "billing_provider.address" in problem["detail"] and "patient.address" in problem["detail"]


async def test_concurrent_reads_get_one_interchange_and_control_numbers_never_repeat(stack: Stack) -> None:
    claims = await asyncio.gather(*(snapshotted(stack, billable()) for _ in range(6)))

    same_claim = await asyncio.gather(*(stack.api.get(path(claims[0]), headers=stack.headers) for _ in range(8)))
    others = await asyncio.gather(*(stack.api.get(path(claim_id), headers=stack.headers) for claim_id in claims[1:]))

    assert {r.status_code for r in [*same_claim, *others]} == {200}
    assert len({r.content for r in same_claim}) == 1  # one interchange, whoever generated it first
    numbers = [int(r.text.split("*")[13]) for r in [same_claim[0], *others]]
    assert len(set(numbers)) == len(claims)

    async def next_number() -> int:
        async with UnitOfWork(stack.sessions) as uow:
            return await uow.x12.next_control_number()

    drawn = await asyncio.gather(*(next_number() for _ in range(200)))
    assert len(set(drawn)) == 200 and not set(drawn) & set(numbers)


async def test_an_invalid_claim_is_never_sent_so_it_has_no_837p(stack: Stack) -> None:
    body = billable()
    body["lines"][0]["charge"] = body["total_charge"] = "0.00"
    claim_id = await stack.submit(body)
    await stack.wait_for(claim_id, "invalid")

    response = await stack.api.get(path(claim_id), headers=stack.headers)

    assert response.status_code == 409
    assert response.json()["code"] == "x12_claim_not_ready"
    assert "never sent" in response.json()["detail"]
