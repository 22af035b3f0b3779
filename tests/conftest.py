"""Fixtures shared across test packages.

``database_url`` runs a test once on SQLite (a file in tmp_path) and once on PostgreSQL (a fresh database
on the server that ``scripts/with-postgres`` starts); the PostgreSQL run skips, with the reason, only
when no server could be started.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings
from sqlalchemy.engine import Engine

# Property tests must not depend on the machine's speed: no per-example deadline, no "generation is slow" failure
# (the shared 2-core machine runs several suites at once).
settings.register_profile("openlfr", deadline=None, suppress_health_check=[HealthCheck.too_slow])
# `make test-fast` tries fewer examples per property (the full suite, `make test`, keeps Hypothesis's 100).
settings.register_profile("openlfr-fast", parent=settings.get_profile("openlfr"), max_examples=25)
settings.load_profile(os.environ.get("LFR_HYPOTHESIS_PROFILE", "openlfr"))

# The one session-wide Chromium (`browser`) for the console and report tests alike; `replace_function`.
pytest_plugins = ["tests.helpers.browser", "tests.helpers.patching"]

POSTGRES_URL_ENV = "LFR_TEST_POSTGRES_URL"
POSTGRES_SKIP_ENV = "LFR_TEST_POSTGRES_SKIP"
MODEL_CACHE_ENV = "LFR_CACHE_DIR"


def pytest_configure(config: pytest.Config) -> None:
    # Converted models default to <data_dir>/cache; tests make a fresh data folder each, so they share one
    # cache instead (conversion is per machine, as it would be per data folder). Tests of the default itself
    # (tests/test_outbound.py) run their commands without this variable.
    os.environ.setdefault(MODEL_CACHE_ENV, str(Path(tempfile.gettempdir()) / "openlfr-test-model-cache"))
    # This process imports the runtimes too: their telemetry must not run here either.
    from openlfr.models.runtime import block_runtime_telemetry

    block_runtime_telemetry()


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


@pytest.fixture(scope="session", autouse=True)
def migrated_sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Every test opens a new SQLite database, and running the Alembic chain for each took a third of the fast
    suite. The chain runs once, on a template; a new, empty SQLite file is then given a copy of the template in
    place of the same migrations. Files that hold anything (an older schema, a corrupt file) and PostgreSQL
    still run the real ``migrate``; tests of the migrations themselves call Alembic directly."""
    from sqlalchemy.engine import make_url

    from openlfr.store import db

    template = tmp_path_factory.mktemp("schema") / "template.db"
    engine = db.create_db_engine(make_url(f"sqlite+pysqlite:///{template}"))
    db.migrate(engine)
    engine.dispose()  # the last connection closed: SQLite folds the write-ahead log into the file
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(db, "migrate", _copy_template_into_empty_sqlite(template, db.migrate))
        yield template


def _copy_template_into_empty_sqlite(template: Path, migrate: Callable[[Engine], None]) -> Callable[[Engine], None]:
    def migrate_or_copy(engine: Engine) -> None:
        database = engine.url.database if engine.dialect.name == "sqlite" else None
        path = Path(database) if database and database != ":memory:" else None
        if path is not None and path.exists() and path.stat().st_size == 0 and not _sidecars(path):
            engine.dispose()
            shutil.copyfile(template, path)  # into the existing file: it keeps the 0600 mode the store gave it
            return
        migrate(engine)

    return migrate_or_copy


def _sidecars(path: Path) -> bool:
    return any(Path(f"{path}{suffix}").exists() for suffix in ("-wal", "-journal"))
