"""The database alert store on SQLite and PostgreSQL: durable rows, encrypted media, increasing seq."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from pydantic import SecretStr
from sqlalchemy import select

from openlfr.alerts.db_store import DbAlertStore
from openlfr.alerts.dispatch import AlertDispatcher
from openlfr.alerts.event import AlertEvent
from openlfr.alerts.store import AlertStore
from openlfr.config.models import Settings
from openlfr.pipeline.thresholds import SFACE_INT8BQ
from openlfr.store.alert_models import AlertRecord
from openlfr.store.camera_models import CameraRecord
from openlfr.store.db import MIGRATIONS_DIR, open_database
from openlfr.store.errors import StorageError
from openlfr.store.media import MediaStore, generate_key
from openlfr.store.models import Base


def event(alert_id: str, *, context: bytes | None = b"\xff\xd8context") -> AlertEvent:
    return AlertEvent(
        alert_id=alert_id,
        mode="production",
        source="cam1",
        track_id=7,
        subject_id="0" * 32,
        score=0.61234,
        second_score=None,
        evidence=3,
        threshold=SFACE_INT8BQ.threshold,
        frame_index=12,
        frame_time_s=0.48,
        frame_wall_time=1_790_000_000.0,
        decided_at=1_790_000_000.25,
        latency_ms=100.0,
        model="fake",
        reference_image="1" * 32,
        probe_jpeg=b"\xff\xd8probe-" + alert_id.encode(),
        context_jpeg=context,
    )


def test_alert_migration_is_in_the_chain_and_matches_the_models(database_url: str, tmp_path: Path) -> None:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    assert ScriptDirectory.from_config(config).get_revision("0150").down_revision == "0100"
    db = open_database(Settings(data_dir=tmp_path, database_url=database_url))
    assert {AlertRecord.__tablename__, CameraRecord.__tablename__} <= set(Base.metadata.tables)
    try:
        with db.engine.connect() as connection:
            diff = compare_metadata(MigrationContext.configure(connection, opts={"compare_type": True}), Base.metadata)
        assert diff == []
    finally:
        db.close()


def test_append_commits_row_and_encrypted_media(database_url: str, tmp_path: Path) -> None:
    db = open_database(Settings(data_dir=tmp_path, database_url=database_url))
    media = MediaStore(tmp_path / "media", SecretStr(generate_key()))
    store = DbAlertStore(db, media, deployment_id="d" * 32)
    assert isinstance(store, AlertStore)
    try:
        first = store.append(event("a" * 32))
        second = store.append(event("b" * 32, context=None))
        assert (first["seq"], second["seq"]) == (1, 2)
        assert first["deployment_id"] == "d" * 32 and first["status"] == "pending"
        with pytest.raises(StorageError, match="already stored"):
            store.append(event("a" * 32))
        store.close()  # leaves the database usable
        with db.session() as session:
            rows = session.scalars(select(AlertRecord).order_by(AlertRecord.seq)).all()
            assert [r.id for r in rows] == ["a" * 32, "b" * 32]
            row = rows[0]
            assert row.mode == "production" and row.version == 1 and not row.hold
            assert row.decided_at.timestamp() == pytest.approx(1_790_000_000.25)
            assert row.media_encrypted and rows[1].context_media is None
            probe, context = row.probe_media, row.context_media
        assert context is not None
        assert media.get(probe, encrypted=True) == b"\xff\xd8probe-" + b"a" * 32
        assert media.get(context, encrypted=True) == b"\xff\xd8context"
        # encrypted at rest: the plain bytes are nowhere in the file
        assert b"probe-" not in media.path_for(probe).read_bytes()
    finally:
        db.close()


def test_concurrent_writers_get_distinct_increasing_seq(database_url: str, tmp_path: Path) -> None:
    db = open_database(Settings(data_dir=tmp_path, database_url=database_url))
    media = MediaStore(tmp_path / "media")
    # Two stores on one database: the seq lock is per store, so only the unique constraint keeps them apart.
    stores = [DbAlertStore(db, media), DbAlertStore(db, media)]
    errors: list[BaseException] = []

    def write(store: DbAlertStore, prefix: str) -> None:
        try:
            for i in range(10):
                AlertDispatcher(store, []).publish(event(f"{prefix}{i:031d}"))
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(s, p)) for s, p in zip(stores, "xy", strict=True)]
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert errors == []
        with db.session() as session:
            seqs = sorted(session.scalars(select(AlertRecord.seq)).all())
        assert seqs == list(range(1, 21))
    finally:
        db.close()
