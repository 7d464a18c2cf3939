"""The engine runs on PostgreSQL only: any other URL is refused with the setting to fix."""

from __future__ import annotations

import pytest

from db.engine import create_engine
from db.migrate import upgrade


@pytest.mark.parametrize("url", ["sqlite:///claimflow.db", "mysql://claimflow:secret@db/claims", "", "claimflow.db"])
@pytest.mark.parametrize("use", [create_engine, upgrade])
def test_a_url_that_is_not_postgresql_is_refused_naming_the_setting(use, url):
    with pytest.raises(ValueError, match="CLAIMFLOW_DATABASE_URL must be a PostgreSQL URL") as refused:
        use(url)
    assert "secret" not in str(refused.value)


@pytest.mark.parametrize("url", ["postgresql://u@h/claims", "postgres://u@h/claims", "postgresql+psycopg://u@h/claims"])
def test_a_postgresql_url_gets_the_psycopg_driver(url):
    assert create_engine(url).url.drivername == "postgresql+psycopg"
