from __future__ import annotations

from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, text

from openlfr.config.models import Settings
from openlfr.store.context import open_store
from openlfr.store.db import MIGRATIONS_DIR, database_url, open_database
from openlfr.store.errors import StorageError
from openlfr.store.models import Base

TABLES = {
    "subject",
    "watchlist",
    "watchlist_member",
    "reference_image",
    "template",
    "snapshot",
    "snapshot_template",
    "erasure_record",
}


def test_first_use_creates_the_schema_and_reopening_is_a_no_op(database_url: str, tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, database_url=database_url)
    db = open_database(settings)
    try:
        assert set(inspect(db.engine).get_table_names()) >= TABLES
        with db.engine.connect() as connection:
            version = connection.execute(text("SELECT version_num FROM alembic_version")).scalar_one()
        assert version == _head_revision()
    finally:
        db.close()
    open_database(settings).close()  # migrating an up-to-date schema changes nothing and does not fail


def _head_revision() -> str:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    head = ScriptDirectory.from_config(config).get_current_head()
    assert head is not None
    return head


def test_migrations_match_the_models(database_url: str, tmp_path: Path) -> None:
    db = open_database(Settings(data_dir=tmp_path, database_url=database_url))
    try:
        with db.engine.connect() as connection:
            diff = compare_metadata(MigrationContext.configure(connection, opts={"compare_type": True}), Base.metadata)
    finally:
        db.close()
    assert diff == []


def test_default_database_is_an_sqlite_file_in_wal_mode_under_data_dir(tmp_path: Path) -> None:
    with open_store(Settings(data_dir=tmp_path / "data")) as store:
        with store.db.engine.connect() as connection:
            assert connection.exec_driver_sql("PRAGMA journal_mode").scalar_one() == "wal"
            assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar_one() == 1
            assert connection.exec_driver_sql("PRAGMA secure_delete").scalar_one() == 1
        assert store.media.root == tmp_path / "data" / "media"
    assert (tmp_path / "data" / "openlfr.db").is_file()


def test_postgresql_urls_use_psycopg3() -> None:
    url = database_url(Settings(database_url="postgresql://lfr:secret@db.example/lfr"))
    assert url.drivername == "postgresql+psycopg"
    assert url.password == "secret"


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("not a url", "not a valid SQLAlchemy URL"),
        ("mysql://user@host/db", "unsupported database 'mysql'"),
    ],
)
def test_bad_urls_are_clear_errors(url: str, message: str) -> None:
    with pytest.raises(StorageError, match=message):
        open_database(Settings(database_url=url))


def test_unreachable_server_is_a_clear_error_without_the_password() -> None:
    # Port 1 on localhost: nothing listens there, the connection is refused at once.
    with pytest.raises(StorageError) as caught:
        open_database(Settings(database_url="postgresql://lfr:hunter2@127.0.0.1:1/lfr?connect_timeout=2"))
    assert "cannot open database" in str(caught.value)
    assert "hunter2" not in str(caught.value)
