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


def test_every_stored_time_comes_back_aware_and_in_utc(database_url: str, tmp_path: Path) -> None:
    """One column type for every timestamp: SQLite keeps no zone, so without it a time came back naive, and an
    aware time of another zone was stored as its wall clock (an hour off for +01:00)."""
    from datetime import UTC, datetime, timedelta, timezone

    from sqlalchemy import DateTime

    from openlfr.store.models import Subject, UTCDateTime

    columns = [c for table in Base.metadata.tables.values() for c in table.columns if isinstance(c.type, DateTime)]
    assert columns == []  # every time column is a UTCDateTime (a TypeDecorator, not a DateTime)
    assert sum(isinstance(c.type, UTCDateTime) for t in Base.metadata.tables.values() for c in t.columns) > 30

    paris = datetime(2026, 12, 1, 10, 0, tzinfo=timezone(timedelta(hours=1)))
    db = open_database(Settings(data_dir=tmp_path, database_url=database_url))
    try:
        with db.session() as session:
            session.add(Subject(id="s", external_ref="S", category="witness", reason="r", image_source="other",
                                added_by="a", review_by=paris.date(), created_at=paris,
                                updated_at=datetime(2026, 12, 1, 9, 30)))  # fmt: skip
        with db.session() as session:
            subject = session.get(Subject, "s")
            assert subject is not None
            assert subject.created_at == paris and subject.created_at.utcoffset() == timedelta(0)
            assert subject.updated_at == datetime(2026, 12, 1, 9, 30, tzinfo=UTC)  # naive in: taken as UTC
            earlier = session.query(Subject).filter(Subject.created_at < datetime(2026, 12, 1, 9, 30)).count()
            assert earlier == 1  # 10:00+01:00 is 09:00 UTC
    finally:
        db.close()
