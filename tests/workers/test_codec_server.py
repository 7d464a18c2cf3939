"""The codec server: operators only (401 without a token, 403 without the admin role), CORS for the UI's origin
only, problem JSON, and a payload from a real workflow history decoded."""

from __future__ import annotations

import base64
import os
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import httpx
import pytest
from google.protobuf import json_format
from temporalio.api.common.v1 import Payload, Payloads
from temporalio.api.enums.v1 import EventType
from temporalio.client import Client

from api.auth import Role, SharedSecretTokens
from tests.support.stack import JWT_ISSUER, JWT_SECRET, auth, free_port
from workers.codec_server import SESSION_COOKIE, codec_app_from_settings, create_codec_app
from workers.payload_codec import EncryptionCodec, PayloadKey
from workers.settings import ConfigurationError, Settings
from workers.temporal_client import encrypted
from workers.temporal_server import temporal_dev_server, wait_for_port
from workflows.claim_contract import WORKFLOW_NAME, ClaimWorkflowInput

UI = "http://127.0.0.1:8233"
CODEC = EncryptionCodec([PayloadKey("test-key", os.urandom(32))])
ADMIN = auth(Role.ADMIN, sub="ops-1", org=None)


@pytest.fixture
async def codec_server() -> AsyncIterator[httpx.AsyncClient]:
    app = create_codec_app(CODEC, SharedSecretTokens(secret=JWT_SECRET, issuer=JWT_ISSUER), ui_origins=[UI])
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://codec.test") as client:
        yield client


def payloads_json(*payloads: Payload) -> str:
    return json_format.MessageToJson(Payloads(payloads=payloads))


def payloads_of(response: httpx.Response) -> list[Payload]:
    return list(json_format.Parse(response.text, Payloads()).payloads)


async def encrypted_text(text: str) -> Payload:
    [payload] = await CODEC.encode([Payload(metadata={"encoding": b"json/plain"}, data=f'"{text}"'.encode())])
    return payload


class TestAuthentication:
    async def test_no_token_is_401_problem_json(self, codec_server: httpx.AsyncClient) -> None:
        response = await codec_server.post("/decode", content=payloads_json(await encrypted_text("x")))
        assert response.status_code == 401
        assert response.headers["content-type"] == "application/problem+json"
        assert response.headers["www-authenticate"] == "Bearer"
        assert response.json()["code"] == "unauthorized"

    async def test_a_token_signed_with_another_key_is_401(self, codec_server: httpx.AsyncClient) -> None:
        response = await codec_server.post("/decode", content="{}", headers={"Authorization": "Bearer not.a.token"})
        assert response.status_code == 401

    @pytest.mark.parametrize("role", [Role.SUBMITTER, Role.ADJUSTER, Role.SUPERVISOR])
    async def test_a_role_other_than_admin_is_403_and_nothing_is_decoded(
        self, codec_server: httpx.AsyncClient, role: Role
    ) -> None:
        response = await codec_server.post(
            "/decode", content=payloads_json(await encrypted_text("Ana Ruiz")), headers=auth(role, sub="someone")
        )
        assert response.status_code == 403
        assert response.json()["code"] == "forbidden"
        assert "Ana" not in response.text

    async def test_a_browser_session_opened_with_an_admin_token_decodes_by_cookie(
        self, codec_server: httpx.AsyncClient
    ) -> None:
        token = ADMIN["Authorization"].removeprefix("Bearer ")
        opened = await codec_server.post("/session", data={"token": token})
        assert opened.status_code == 200
        cookie = opened.headers["set-cookie"]
        assert cookie.startswith(f"{SESSION_COOKIE}=") and "HttpOnly" in cookie and "SameSite=strict" in cookie
        assert token not in cookie  # an opaque session id, not the token
        response = await codec_server.post("/decode", content=payloads_json(await encrypted_text("Ana Ruiz")))
        assert response.status_code == 200  # the client sends the cookie back
        codec_server.cookies.clear()
        assert (await codec_server.post("/decode", content="{}")).status_code == 401

    async def test_a_session_needs_an_admin_token(self, codec_server: httpx.AsyncClient) -> None:
        token = auth(Role.SUPERVISOR, sub="sup")["Authorization"].removeprefix("Bearer ")
        refused = await codec_server.post("/session", data={"token": token})
        assert refused.status_code == 403 and "set-cookie" not in refused.headers
        assert (await codec_server.post("/session", data={"token": "forged"})).status_code == 401


class TestCors:
    async def test_preflight_from_the_ui_origin_is_allowed(self, codec_server: httpx.AsyncClient) -> None:
        response = await codec_server.options(
            "/default/decode",
            headers={
                "Origin": UI,
                "Access-Control-Request-Method": "POST",
                "Access-Control-Request-Headers": "authorization, content-type, x-namespace",
            },
        )
        assert response.status_code == 200
        assert response.headers["access-control-allow-origin"] == UI
        assert response.headers["access-control-allow-credentials"] == "true"
        allowed = response.headers["access-control-allow-headers"].lower()
        assert "authorization" in allowed and "x-namespace" in allowed

    async def test_preflight_from_another_origin_is_refused(self, codec_server: httpx.AsyncClient) -> None:
        response = await codec_server.options(
            "/decode", headers={"Origin": "http://evil.test", "Access-Control-Request-Method": "POST"}
        )
        assert response.status_code == 400
        assert "access-control-allow-origin" not in response.headers

    async def test_an_answer_is_readable_by_the_ui_origin_only(self, codec_server: httpx.AsyncClient) -> None:
        body = payloads_json(await encrypted_text("x"))
        from_ui = await codec_server.post("/decode", content=body, headers={**ADMIN, "Origin": UI})
        assert from_ui.headers["access-control-allow-origin"] == UI
        elsewhere = await codec_server.post("/decode", content=body, headers={**ADMIN, "Origin": "http://evil.test"})
        assert "access-control-allow-origin" not in elsewhere.headers


class TestCodec:
    async def test_an_admin_decodes_a_payload_from_a_real_history(
        self, codec_server: httpx.AsyncClient, temporal: Client
    ) -> None:
        """A workflow started through a codec client (no worker needed: its start event holds its input); the raw
        history's input payload, sent as the UI sends it, comes back as the claim's input."""
        claim_id = str(uuid.uuid4())
        handle = await encrypted(temporal, CODEC).start_workflow(
            WORKFLOW_NAME,
            ClaimWorkflowInput(claim_id=claim_id, org_id="org-codec", received_at=datetime.now(UTC)),
            id=f"codec-test-{claim_id}",
            task_queue=f"nobody-{uuid.uuid4().hex[:8]}",
        )
        try:
            history = await temporal.get_workflow_handle(handle.id).fetch_history()  # raw: no codec
            started = next(e for e in history.events if e.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED)
            stored = list(started.workflow_execution_started_event_attributes.input.payloads)
            assert claim_id.encode() not in stored[0].SerializeToString()

            response = await codec_server.post(
                "/default/decode", content=payloads_json(*stored), headers={**ADMIN, "X-Namespace": "default"}
            )
            assert response.status_code == 200
            assert response.headers["content-type"] == "application/json"
            [decoded] = payloads_of(response)
            assert decoded.metadata["encoding"] == b"json/plain"
            assert ClaimWorkflowInput.model_validate_json(decoded.data).claim_id == claim_id
        finally:
            await handle.terminate()

    async def test_encode_then_decode_round_trips(self, codec_server: httpx.AsyncClient) -> None:
        plain = Payload(metadata={"encoding": b"json/plain"}, data=b'"note"')
        encoded = await codec_server.post("/encode", content=payloads_json(plain), headers=ADMIN)
        assert encoded.status_code == 200
        [ciphertext] = payloads_of(encoded)
        assert ciphertext.metadata["encoding"] == b"binary/encrypted"
        decoded = await codec_server.post("/decode", content=encoded.text, headers=ADMIN)
        assert payloads_of(decoded) == [plain]

    async def test_a_body_that_is_not_payloads_is_400_problem_json(self, codec_server: httpx.AsyncClient) -> None:
        response = await codec_server.post("/decode", content="not json", headers=ADMIN)
        assert response.status_code == 400
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["code"] == "invalid_payloads"

    async def test_a_tampered_payload_is_400_and_names_no_data(self, codec_server: httpx.AsyncClient) -> None:
        stored = await encrypted_text("Ana Ruiz")
        tampered = Payload(metadata=stored.metadata, data=stored.data[:-1] + bytes([stored.data[-1] ^ 1]))
        response = await codec_server.post("/decode", content=payloads_json(tampered), headers=ADMIN)
        assert response.status_code == 400
        assert "does not authenticate" in response.json()["detail"]
        assert base64.b64encode(tampered.data).decode() not in response.text


def test_the_codec_server_refuses_to_start_when_encryption_is_off() -> None:
    with pytest.raises(ConfigurationError, match="CLAIMFLOW_PAYLOAD_ENCRYPTION=true"):
        codec_app_from_settings(Settings(_env_file=None), SharedSecretTokens(secret=JWT_SECRET, issuer=JWT_ISSUER))


async def test_the_dev_servers_ui_is_pointed_at_the_codec_server() -> None:
    """`claimflow dev` with encryption on starts the dev server so: its UI's settings name the codec endpoint."""
    port, ui_port = free_port(), free_port()
    endpoint = "http://127.0.0.1:8234"
    async with temporal_dev_server(port=port, ui_port=ui_port, db_file=None, ui_codec_endpoint=endpoint):
        await wait_for_port("127.0.0.1", ui_port, timeout=30)
        async with httpx.AsyncClient() as http:
            settings = (await http.get(f"http://127.0.0.1:{ui_port}/api/v1/settings")).json()
    assert settings["Codec"]["Endpoint"] == endpoint
