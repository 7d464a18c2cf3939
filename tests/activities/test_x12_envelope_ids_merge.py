"""with_envelope_ids: an X12 integration row's submitter and receiver ids over the CLAIMFLOW_X12_* default, and the
refusal of the dev ids in an interchange marked as production data (ISA15 P, production's default)."""

from __future__ import annotations

import pytest

from activities.integrations import with_envelope_ids
from activities.x12.interchange import X12NotConfiguredError
from domain.integrations import DEV_X12_RECEIVER_ID, DEV_X12_SUBMITTER_ID, Adapter, Integration
from tests.workers.test_settings import production
from workers.api_config import x12_integration
from workers.settings import Settings

DEV = x12_integration(Settings(_env_file=None))


def row(adapter: Adapter = Adapter.X12, **ids: str | None) -> Integration:
    return Integration(org_id="org-1", integration_id="inmediata", processor="inmediata", adapter=adapter, **ids)


def test_the_rows_ids_replace_the_envelopes_and_the_submitter_loops_ids_and_nothing_else() -> None:
    merged = with_envelope_ids(DEV, row(submitter_id="LAB01", receiver_id="AVAILITY"))

    assert (merged.envelope.sender_id, merged.envelope.receiver_id) == ("LAB01", "AVAILITY")
    assert (merged.submitter.identifier, merged.submitter.receiver_id) == ("LAB01", "AVAILITY")
    assert merged.envelope.usage == DEV.envelope.usage
    assert merged.submitter.name == DEV.submitter.name
    assert merged.submitter.receiver_name == DEV.submitter.receiver_name


def test_an_id_the_row_leaves_empty_stays_the_default() -> None:
    merged = with_envelope_ids(DEV, row(submitter_id="LAB01"))
    assert (merged.envelope.sender_id, merged.envelope.receiver_id) == ("LAB01", DEV_X12_RECEIVER_ID)
    assert (merged.submitter.identifier, merged.submitter.receiver_id) == ("LAB01", DEV_X12_RECEIVER_ID)


@pytest.mark.parametrize("integration", [None, row(), row(Adapter.JSON, submitter_id="LAB01", receiver_id="AVAILITY")])
def test_no_row_a_row_without_ids_or_a_json_row_leaves_the_default(integration: Integration | None) -> None:
    assert with_envelope_ids(DEV, integration) == DEV


def test_production_marks_interchanges_p_and_refuses_the_dev_ids_naming_what_to_set() -> None:
    default = x12_integration(production())
    assert default.envelope.usage == "P"

    with pytest.raises(X12NotConfiguredError, match="submitter_id or CLAIMFLOW_X12_SUBMITTER_ID"):
        with_envelope_ids(default, None)
    with pytest.raises(
        X12NotConfiguredError, match=r"integration inmediata .* receiver_id or CLAIMFLOW_X12_RECEIVER_ID"
    ):
        with_envelope_ids(default, row(submitter_id="LAB01"))


def test_production_sends_with_the_rows_ids_or_with_settings_of_its_own() -> None:
    default = x12_integration(production())
    merged = with_envelope_ids(default, row(submitter_id="LAB01", receiver_id="AVAILITY"))
    assert (merged.envelope.sender_id, merged.envelope.receiver_id) == ("LAB01", "AVAILITY")

    own = x12_integration(production(x12_submitter_id="LAB01", x12_receiver_id="AVAILITY"))
    assert with_envelope_ids(own, None) == own


def test_a_json_only_production_deployment_starts_with_the_dev_x12_ids() -> None:
    # No X12 settings of its own: the settings and the default envelope the API and the worker build at start are
    # made without a refusal; it comes only when an interchange would be sent (the tests above).
    default = x12_integration(production())
    assert (default.envelope.usage, default.envelope.sender_id) == ("P", DEV_X12_SUBMITTER_ID)
    assert default.envelope.receiver_id == DEV_X12_RECEIVER_ID
