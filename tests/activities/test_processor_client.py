"""The processor client's failures and answers carry codes and our own words, never the processor's text.

The processor is an outside party: a fake transport plays it answering with bodies that echo the
claim (a patient's name), and each failure is checked for that text and for a cause that carries it.
"""

from __future__ import annotations

import json
from collections.abc import Callable

import httpx
import pytest

from activities.contracts import SubmissionReceipt
from activities.processor_client import (
    ProcessorAnswerError,
    ProcessorClient,
    ProcessorRefusedError,
    ProcessorUnavailableError,
)
from domain.adjudication import Category
from tests.domain.factories import make_claim

#: What a careless processor echoes back: the patient's name and a diagnosis.
ECHO = "Zyxwarden Quillfeather, O09.90"

Handler = Callable[[httpx.Request], httpx.Response]


def client(handler: Handler) -> ProcessorClient:
    return ProcessorClient(httpx.AsyncClient(transport=httpx.MockTransport(handler)), "http://processor.test")


def answering(status: int, body: object) -> Handler:
    return lambda _: httpx.Response(status, content=json.dumps(body).encode())


async def submit(processor: ProcessorClient) -> SubmissionReceipt:
    return await processor.submit("c-1", make_claim(), idempotency_key="k-1", callback_url=None)


def assert_clean(error: BaseException) -> None:
    """Neither the failure nor anything chained to it names what the processor said."""
    seen: BaseException | None = error
    while seen is not None:
        assert "Zyxwarden" not in str(seen) and "O09.90" not in str(seen), repr(seen)
        seen = seen.__cause__ or (None if seen.__suppress_context__ else seen.__context__)


async def test_a_refusal_names_the_request_and_the_status_only() -> None:
    processor = client(answering(422, {"error": "invalid", "message": f"patient {ECHO} is not covered"}))
    with pytest.raises(ProcessorRefusedError) as refused:
        await submit(processor)
    assert str(refused.value) == "the processor refused the submission with HTTP 422"
    assert refused.value.status_code == 422
    assert_clean(refused.value)


async def test_a_server_error_is_retryable_and_names_the_status_only() -> None:
    processor = client(answering(503, {"message": f"backend down while filing {ECHO}"}))
    with pytest.raises(ProcessorUnavailableError) as failed:
        await processor.status("P-1")
    assert str(failed.value) == "the processor answered the status request with HTTP 503"
    assert_clean(failed.value)


async def test_a_malformed_answer_names_the_field_and_the_error_type_never_the_value() -> None:
    processor = client(answering(200, {"payer_claim_id": "P-1", "category": ECHO}))
    with pytest.raises(ProcessorAnswerError) as failed:
        await submit(processor)
    assert str(failed.value) == "the processor's answer to the submission is not valid: category (enum)"
    assert_clean(failed.value)


async def test_an_answer_that_is_no_json_is_malformed() -> None:
    processor = client(lambda _: httpx.Response(200, content=f"<html>{ECHO}</html>".encode()))
    with pytest.raises(ProcessorAnswerError) as failed:
        await processor.status("P-1")
    assert "json_invalid" in str(failed.value)
    assert_clean(failed.value)


async def test_a_status_answer_keeps_its_codes_and_drops_the_processors_text() -> None:
    body = {"payer_claim_id": "P-1", "category": "F1", "status_code": "65", "message": f"paid for {ECHO}"}
    status = await client(answering(200, body)).status("P-1")
    assert (status.category, status.status_code, status.message) == (Category.FINALIZED_PAID, "65", "")


async def test_a_status_code_that_is_free_text_is_dropped() -> None:
    body = {"payer_claim_id": "P-1", "category": "A2", "status_code": f"see {ECHO}"}
    receipt = await submit(client(answering(200, body)))
    assert (receipt.category, receipt.status_code) == (Category.ACCEPTED, "")


async def test_an_unknown_claim_is_a_status_not_a_failure() -> None:
    status = await client(answering(404, {"message": ECHO})).status("P-9")
    assert (status.category, status.message) == (Category.NOT_FOUND, "")


async def test_an_unknown_path_on_submission_is_a_refusal() -> None:
    with pytest.raises(ProcessorRefusedError) as refused:
        await submit(client(answering(404, {"message": ECHO})))
    assert str(refused.value) == "the processor refused the submission with HTTP 404"
