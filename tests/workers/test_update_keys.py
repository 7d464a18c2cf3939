"""The update-signing keys: a pair made by `claimflow update-keys`, the dev pair in the data folder, production's rules."""

from __future__ import annotations

import stat
import subprocess
import sys
from pathlib import Path

import pytest
from pydantic import BaseModel

from workers.settings import Environment, Settings
from workers.update_keys import DEV_KEY_FILE, signing_key, trusted_keys
from workflows.update_signatures import key_id


def settings(**values: object) -> Settings:
    return Settings(_env_file=None, **values)  # type: ignore[call-arg, arg-type]


class Arg(BaseModel):
    actor: str


def test_a_pair_made_by_the_cli_signs_in_the_api_and_verifies_in_the_worker(tmp_path: Path) -> None:
    private = tmp_path / "api.pem"
    subprocess.run([sys.executable, "-m", "workers.cli", "update-keys", str(private)], check=True, capture_output=True)
    assert stat.S_IMODE(private.stat().st_mode) == 0o600
    api = signing_key(settings(environment=Environment.PRODUCTION, update_signing_key_file=private, **STRONG))
    [trusted] = trusted_keys(
        settings(environment=Environment.PRODUCTION, update_verify_key_files=[tmp_path / "api.pem.pub"], **STRONG)
    )
    assert key_id(trusted) == key_id(api.public_key())


def test_dev_processes_share_one_pair_kept_in_the_data_folder(tmp_path: Path) -> None:
    dev = settings(data_dir=tmp_path)
    api = signing_key(dev)
    assert stat.S_IMODE((tmp_path / DEV_KEY_FILE).stat().st_mode) == 0o600
    [trusted] = trusted_keys(settings(data_dir=tmp_path))  # another process, the same folder
    assert key_id(trusted) == key_id(api.public_key())


STRONG = {
    "jwt_secret": "j" * 32,
    "webhook_secret": "w" * 32,
    "database_url": "postgresql://db/claimflow?sslmode=verify-full",
    "processor_url": "https://clearinghouse.example",
    "public_api_url": "https://claims.example",
}


def test_production_names_its_keys_instead_of_making_any(tmp_path: Path) -> None:
    production = settings(environment=Environment.PRODUCTION, data_dir=tmp_path, **STRONG)
    with pytest.raises(ValueError, match="CLAIMFLOW_UPDATE_SIGNING_KEY_FILE"):
        signing_key(production)
    with pytest.raises(ValueError, match="CLAIMFLOW_UPDATE_VERIFY_KEY_FILES"):
        trusted_keys(production)
    assert not (tmp_path / DEV_KEY_FILE).exists()
