"""Fixtures shared across test packages.

``database_url`` runs a test once on SQLite (a file in tmp_path) and once on PostgreSQL (a fresh database
on the server that ``scripts/with-postgres`` starts); the PostgreSQL run skips, with the reason, only
when no server could be started.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

# Property tests must not depend on the machine's speed: no per-example deadline, no "generation is slow" failure
# (the shared 2-core machine runs several suites at once).
settings.register_profile("openlfr", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("openlfr")

POSTGRES_URL_ENV = "LFR_TEST_POSTGRES_URL"
POSTGRES_SKIP_ENV = "LFR_TEST_POSTGRES_SKIP"


def _postgres_admin_url() -> str:
    url = os.environ.get(POSTGRES_URL_ENV)
    if not url:
        pytest.skip(os.environ.get(POSTGRES_SKIP_ENV) or f"{POSTGRES_URL_ENV} is not set (run through scripts/test)")
    return url


@pytest.fixture
def postgres_database_url() -> Iterator[str]:
    """A new, empty PostgreSQL database for one test, dropped afterwards."""
    import psycopg
    from sqlalchemy.engine import make_url

    admin = make_url(_postgres_admin_url())
    name = f"lfr_test_{uuid.uuid4().hex[:12]}"
    dsn = admin.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(dsn, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    try:
        yield admin.set(database=name).render_as_string(hide_password=False)
    finally:
        with psycopg.connect(dsn, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The URL of an empty database: an SQLite file, or (second run) a fresh PostgreSQL database."""
    if request.param == "sqlite":
        return f"sqlite+pysqlite:///{tmp_path / 'lfr.db'}"
    url: str = request.getfixturevalue("postgres_database_url")
    return url
