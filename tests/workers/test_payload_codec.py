"""Payload encryption: AES-GCM round trip, key rotation, tampering refused, keys from settings, and a claim run
through the real dev server whose stored history holds only ciphertext."""

from __future__ import annotations

import base64
import os
from collections.abc import Sequence
from pathlib import Path

import pytest
from google.protobuf.internal.containers import RepeatedCompositeFieldContainer
from google.protobuf.message import Message
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.api.common.v1 import Payload
from temporalio.api.failure.v1 import Failure
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.exceptions import ApplicationError

from tests.support.stack import running_stack
from workers.payload_codec import (
    ENCODING,
    KEY_ID_METADATA,
    EncryptionCodec,
    PayloadDecryptionError,
    PayloadKey,
    codec_from_settings,
    data_converter,
    read_keys,
)
from workers.sample_claims import scenario_claim
from workers.settings import ConfigurationError, Environment, Settings
from workers.temporal_client import encrypted
from workflows.claim_contract import SEARCH_ATTRIBUTES, STATE_QUERY, ClaimState, workflow_id


def key(key_id: str) -> PayloadKey:
    return PayloadKey(key_id, os.urandom(32))


def settings(**values: object) -> Settings:
    return Settings(_env_file=None, **values)  # type: ignore[arg-type]


def json_payload(text: str) -> Payload:
    return Payload(metadata={"encoding": b"json/plain"}, data=f'"{text}"'.encode())


class TestCodec:
    async def test_round_trip_gives_back_the_payload_and_stores_only_ciphertext(self) -> None:
        codec = EncryptionCodec([key("k1")])
        original = json_payload("Ana Ruiz")
        [stored] = await codec.encode([original])
        assert stored.metadata["encoding"] == ENCODING
        assert stored.metadata[KEY_ID_METADATA] == b"k1"
        assert b"Ana" not in stored.SerializeToString()
        assert await codec.decode([stored]) == [original]

    async def test_the_same_payload_encrypts_differently_each_time(self) -> None:
        codec = EncryptionCodec([key("k1")])
        first, second = await codec.encode([json_payload("x"), json_payload("x")])
        assert first.data != second.data  # a fresh nonce per payload

    async def test_rotation_the_newest_key_encrypts_and_an_old_one_still_decrypts(self) -> None:
        old, new = key("2026-06"), key("2026-12")
        [written_before] = await EncryptionCodec([old]).encode([json_payload("claim")])
        rotated = EncryptionCodec([new, old])
        [written_after] = await rotated.encode([json_payload("claim")])
        assert written_after.metadata[KEY_ID_METADATA] == b"2026-12"
        assert await rotated.decode([written_before, written_after]) == [json_payload("claim")] * 2

    async def test_a_payload_of_a_retired_key_is_refused_by_name(self) -> None:
        [stored] = await EncryptionCodec([key("retired")]).encode([json_payload("claim")])
        with pytest.raises(PayloadDecryptionError, match=r"key id 'retired'.*not among the configured keys \(k2\)"):
            await EncryptionCodec([key("k2")]).decode([stored])

    async def test_tampered_ciphertext_is_refused(self) -> None:
        codec = EncryptionCodec([key("k1")])
        [stored] = await codec.encode([json_payload("approved 45.00")])
        flipped = bytearray(stored.data)
        flipped[-20] ^= 0x01
        tampered = Payload(metadata=stored.metadata, data=bytes(flipped))
        with pytest.raises(PayloadDecryptionError, match="does not authenticate"):
            await codec.decode([tampered])

    async def test_ciphertext_under_another_key_of_the_same_id_is_refused(self) -> None:
        [stored] = await EncryptionCodec([key("k1")]).encode([json_payload("claim")])
        with pytest.raises(PayloadDecryptionError, match="does not authenticate"):
            await EncryptionCodec([key("k1")]).decode([stored])

    async def test_a_payload_written_without_encryption_passes_through(self) -> None:
        plain = json_payload("written before the codec was turned on")
        assert await EncryptionCodec([key("k1")]).decode([plain]) == [plain]

    def test_keys_must_be_256_bits_unique_and_well_named(self) -> None:
        with pytest.raises(ConfigurationError, match="128 bits; it must be 256 bits"):
            PayloadKey("short", os.urandom(16))
        with pytest.raises(ConfigurationError, match="not a valid id"):
            PayloadKey("a key", os.urandom(32))
        with pytest.raises(ConfigurationError, match="unique"):
            EncryptionCodec([key("k1"), key("k1")])

    def test_a_key_never_shows_in_its_repr(self) -> None:
        secret = os.urandom(32)
        assert repr(secret) not in repr(PayloadKey("k1", secret))

    async def test_failure_messages_travel_encrypted(self) -> None:
        converter = data_converter(EncryptionCodec([key("k1")]))
        failure = Failure()
        await converter.encode_failure(ApplicationError("processor said: Ana Ruiz unknown", type="x"), failure)
        assert b"Ana" not in failure.SerializeToString()
        assert failure.application_failure_info.type == "x"  # the type (a refusal's rule code) stays readable
        decoded = await converter.decode_failure(failure)
        assert isinstance(decoded, ApplicationError)
        assert decoded.message == "processor said: Ana Ruiz unknown"

    def test_without_a_codec_the_converter_is_the_project_one(self) -> None:
        assert data_converter(None) is pydantic_data_converter


class TestKeysFromSettings:
    def test_off_by_default_in_dev(self) -> None:
        assert codec_from_settings(settings()) is None

    def test_on_by_default_in_production_and_refused_without_keys(self, tmp_path: Path) -> None:
        # Production's other requirements (secrets, database, TLS) are not this test's: copied, not validated.
        production = settings(data_dir=tmp_path).model_copy(update={"environment": Environment.PRODUCTION})
        assert production.payload_encryption_enabled
        with pytest.raises(ConfigurationError, match="CLAIMFLOW_PAYLOAD_KEYS or CLAIMFLOW_PAYLOAD_KEY_FILES must"):
            codec_from_settings(production)
        assert not (tmp_path / "payload-keys").exists()  # no dev key made for production

    def test_keys_from_the_environment_newest_first(self, monkeypatch: pytest.MonkeyPatch) -> None:
        new, old = base64.b64encode(os.urandom(32)).decode(), base64.b64encode(os.urandom(32)).decode()
        monkeypatch.setenv("CLAIMFLOW_PAYLOAD_KEYS", f'["2026-12:{new}", "2026-06:{old}"]')
        monkeypatch.setenv("CLAIMFLOW_PAYLOAD_ENCRYPTION", "true")
        codec = codec_from_settings(settings())
        assert codec is not None
        assert codec.key_ids == ("2026-12", "2026-06")
        assert codec.encrypting_key_id == "2026-12"

    def test_keys_from_files_named_by_their_id(self, tmp_path: Path) -> None:
        for name in ("2026-12", "2026-06"):
            (tmp_path / name).write_text(base64.b64encode(os.urandom(32)).decode() + "\n")
        keys = read_keys(settings(payload_key_files=[tmp_path / "2026-12", tmp_path / "2026-06"]))
        assert [k.id for k in keys] == ["2026-12", "2026-06"]

    def test_a_bad_key_is_named_and_its_value_never_printed(self) -> None:
        short = base64.b64encode(b"0123456789abcdef").decode()
        with pytest.raises(ConfigurationError) as error:
            read_keys(settings(payload_keys=[f"k1:{short}"]))
        assert "128 bits" in str(error.value) and short not in str(error.value)
        with pytest.raises(ConfigurationError, match=r"entry 1 .*is not base64") as error:
            read_keys(settings(payload_keys=["k1:not-base64!"]))
        assert "not-base64!" not in str(error.value)
        with pytest.raises(ConfigurationError, match="entry 1 is not 'id:base64-key'"):
            read_keys(settings(payload_keys=["just-a-key"]))

    def test_dev_with_encryption_on_makes_a_private_key_once(self, tmp_path: Path) -> None:
        dev = settings(payload_encryption=True, data_dir=tmp_path)
        first, again = read_keys(dev), read_keys(dev)
        assert first == again and first[0].id == "dev"
        assert (tmp_path / "payload-keys" / "dev").stat().st_mode & 0o077 == 0


PATIENT = ("Ana", "Ruiz")
#: A charge no timestamp or id in a history contains by chance (a 45.00 could be seconds: 06:30:45.004Z).
CHARGE = "317.29"


async def test_a_claim_run_with_the_codec_stores_only_ciphertext_and_the_codec_client_reads_it(
    temporal: Client, sessions: async_sessionmaker[AsyncSession], sandbox_url: str
) -> None:
    """The API and the worker use a codec client. In the history fetched by a client without the codec every payload
    is encrypted (search attributes, which hold ids and statuses, and the SDK's local-activity bookkeeping are not
    payloads a codec sees), and what the workflow carries (organization, charge, payer claim id) is there only as
    ciphertext; a codec client reads the claim's state, a client without it cannot."""
    codec = EncryptionCodec([key("test-key")])
    client = encrypted(temporal, codec)
    body = scenario_claim("M")
    body["lines"][0]["charge"] = body["total_charge"] = CHARGE
    async with running_stack(client, sessions, sandbox_url) as stack:
        claim_id = await stack.submit(body)
        closed = await stack.wait_for(claim_id, "closed", timeout=60)  # the API reads it through the codec
        state = await client.get_workflow_handle(workflow_id(claim_id)).query(STATE_QUERY, result_type=ClaimState)
        assert state.status == "closed" and state.org_id == stack.org
        with pytest.raises(Exception):  # noqa: B017 - a client without the codec cannot read the state
            await temporal.get_workflow_handle(workflow_id(claim_id)).query(STATE_QUERY, result_type=ClaimState)
    member_id = body["patient"]["member_id"]
    history = await temporal.get_workflow_handle(workflow_id(claim_id)).fetch_history()  # no codec

    payloads = [p for event in history.events for p in _payloads_of(event)]
    assert len(payloads) > 10
    assert all(p.metadata["encoding"] == ENCODING for p in payloads)
    decoded = b"".join(p.SerializeToString() for p in await codec.decode(payloads))
    # The rest of the history, read without the ciphertext: base64 of random bytes spells a short name now and
    # then ("RAnaYZ…"), and plaintext cannot hide in a payload that is ciphertext (checked just above).
    for payload in payloads:
        payload.data = b""
    raw = history.to_json()
    # Not payloads of ours, and not encrypted by any codec: search attributes (ids and statuses only, for the UI's
    # search) and the SDK's bookkeeping of each local activity (its sequence number, type and times).
    indexed = {name for event in history.events for name in _search_attributes_of(event)}
    assert indexed <= {key.name for key in SEARCH_ATTRIBUTES}
    # What the workflow carries (the claim's organization, amounts, the payer's claim id) is in its payloads, and
    # only as ciphertext; the patient never enters Temporal at all.
    carried = [stack.org, CHARGE, closed["payer_claim_id"]]
    for value in carried:
        assert value.encode() in decoded
        assert value not in raw
    for value in (*PATIENT, member_id):
        assert value not in raw


def _payloads_of(message: Message) -> list[Payload]:
    """Every Payload inside a protobuf message, however deep, but search attributes and local activity markers'
    own data (see above)."""
    if isinstance(message, Payload):
        return [message]
    found: list[Payload] = []
    for descriptor, value in message.ListFields():
        if descriptor.name == "search_attributes":
            continue
        if descriptor.message_type is not None and descriptor.message_type.GetOptions().map_entry:
            values = [item for key, item in value.items() if not (descriptor.name == "details" and key == "data")]
        elif isinstance(value, Message) or not isinstance(value, Sequence | RepeatedCompositeFieldContainer):
            values = [value]
        else:
            values = list(value)  # a repeated field
        found += [payload for item in values if isinstance(item, Message) for payload in _payloads_of(item)]
    return found


def _search_attributes_of(message: Message) -> set[str]:
    """The names of the search attributes a message sets, however deep."""
    names: set[str] = set()
    for descriptor, value in message.ListFields():
        if descriptor.name == "search_attributes":
            names |= set(value.indexed_fields)
        elif isinstance(value, Message):
            names |= _search_attributes_of(value)
    return names
