"""The camera manager: recognition pipelines started and stopped at runtime, alerts stored with their
deployment, health, the blurred preview, and nothing kept of people who are not on the watchlist."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np
import pytest
from sqlalchemy import select

from openlfr.alerts.sinks import AlertBus
from openlfr.config.models import Settings
from openlfr.engine import FaceEngine
from openlfr.service.cameras import CameraError, CameraManager
from openlfr.service.controller import RecognitionController
from openlfr.store.alert_models import AlertRecord
from openlfr.store.context import Store
from openlfr.store.db import open_database
from openlfr.store.errors import ConflictError, NotFoundError
from openlfr.store.media import MediaStore
from tests.api.conftest import FAKE_ENGINE
from tests.helpers.console import enrol_subject, frame_folder, snapshot
from tests.helpers.waiting import wait_until

DEPLOYMENT = "d" * 32


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path / "var", cache_dir=tmp_path / "cache", engine=FAKE_ENGINE)


@pytest.fixture
def store(settings: Settings) -> Iterator[Store]:
    db = open_database(settings)
    try:
        yield Store(db, MediaStore(settings.data_dir / "media"))
    finally:
        db.close()


@pytest.fixture
def engine(settings: Settings) -> FaceEngine:
    return FaceEngine.from_settings(settings)


def manager(settings: Settings, store: Store, bus: AlertBus, engine: FaceEngine) -> CameraManager:
    return CameraManager(settings, store.db, store.media, bus, engine_factory=lambda: engine, realtime_files=False)


def add(cameras: CameraManager, store: Store, name: str, source: Path, *, loop: bool = False) -> str:
    with store.db.session() as session:
        return cameras.add_camera(session, name=name, source=str(source), created_by="admin", loop=loop).id


def test_a_deployment_raises_alerts_stored_with_its_id_and_pushed_to_the_bus(
    settings: Settings, store: Store, engine: FaceEngine, tmp_path: Path
) -> None:
    subject_id, image_id = enrol_subject(store, engine, 1, "alice")
    snapshot_id = snapshot(store, engine)
    bus = AlertBus()
    heard = bus.subscribe()
    cameras = manager(settings, store, bus, engine)
    assert isinstance(cameras, RecognitionController)
    camera_id = add(cameras, store, "gate-1", frame_folder(tmp_path / "gate", 1, 12))
    cameras.start_recognition(DEPLOYMENT, snapshot_id, 0.5, [camera_id])
    try:
        assert cameras.active_deployments() == frozenset({DEPLOYMENT})
        assert wait_until(lambda: cameras.run_finished(DEPLOYMENT))
        record = heard.get(timeout=5)
        assert record["deployment_id"] == DEPLOYMENT and record["seq"] == 1
        with store.db.session() as session:
            (alert,) = session.scalars(select(AlertRecord)).all()
            assert (alert.deployment_id, alert.mode, alert.source) == (DEPLOYMENT, "production", "gate-1")
            assert alert.subject_id == subject_id and alert.reference_image == image_id
            assert alert.status == "pending" and alert.threshold == 0.5
            health = cameras.health(cameras.list_cameras(session))
        assert health[0].deployment_id == DEPLOYMENT and health[0].state == "ended"
        assert health[0].frames == 12 and health[0].alerts == 1 and health[0].faces >= 12
        assert cameras.preview_jpeg(camera_id) is None  # the source ended: nothing to show
        samples = {(s.name, s.labels.get("le")): s for family in cameras.collect() for s in family.samples}
        assert samples["openlfr_camera_alerts_total", None].value == 1
        assert samples["openlfr_camera_frames_total", None].labels == {"camera": "gate-1"}
        frames = samples["openlfr_frame_latency_seconds_count", None]  # a histogram: every frame, since the start
        assert frames.labels == {"deployment": DEPLOYMENT} and frames.value == 12
        assert samples["openlfr_frame_latency_seconds_bucket", "+Inf"].value == 12
        assert samples["openlfr_alert_latency_seconds_count", None].value == 1
        assert samples["openlfr_deployments_running", None].value == 1
        # the bus is shared: ending a pipeline does not close it
        bus.push({"x": 1})
        assert heard.get_nowait() == {"x": 1}
    finally:
        cameras.stop_recognition(DEPLOYMENT)
    assert cameras.active_deployments() == frozenset()
    cameras.stop_recognition(DEPLOYMENT)  # a second stop is a no-op


def test_passers_by_leave_nothing_behind(settings: Settings, store: Store, engine: FaceEngine, tmp_path: Path) -> None:
    enrol_subject(store, engine, 1, "alice")
    snapshot_id = snapshot(store, engine)
    media_before = sorted(p for p in (settings.data_dir / "media").rglob("*") if p.is_file())
    cameras = manager(settings, store, AlertBus(), engine)
    camera_id = add(cameras, store, "street", frame_folder(tmp_path / "street", 7, 12))
    cameras.start_recognition(DEPLOYMENT, snapshot_id, 0.5, [camera_id])
    assert wait_until(lambda: cameras.run_finished(DEPLOYMENT))
    cameras.stop_recognition(DEPLOYMENT)
    with store.db.session() as session:
        assert session.scalars(select(AlertRecord)).all() == []
        assert cameras.health(cameras.list_cameras(session))[0].state == "idle"
    assert sorted(p for p in (settings.data_dir / "media").rglob("*") if p.is_file()) == media_before


def test_preview_blanks_every_face_and_cameras_are_guarded_while_in_use(
    settings: Settings, store: Store, engine: FaceEngine, tmp_path: Path
) -> None:
    enrol_subject(store, engine, 1, "alice")
    snapshot_id = snapshot(store, engine)
    cameras = manager(settings, store, AlertBus(), engine)
    camera_id = add(cameras, store, "loop", frame_folder(tmp_path / "loop", 3, 4), loop=True)
    other = add(cameras, store, "spare", frame_folder(tmp_path / "spare", 3, 2))
    cameras.start_recognition(DEPLOYMENT, snapshot_id, 0.5, [camera_id])
    try:
        assert wait_until(lambda: cameras.preview_jpeg(camera_id) is not None)
        data = cameras.preview_jpeg(camera_id)
        assert data is not None
        preview = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
        assert preview.shape[:2] == (400, 400)
        face = preview[110:250, 130:270].astype(float)
        assert face.std(axis=(0, 1)).max() < 3  # the textured face is one flat patch now
        assert cameras.preview_jpeg(other) is None
        with pytest.raises(ConflictError, match="in use"):
            cameras.start_recognition("e" * 32, snapshot_id, 0.5, [camera_id])
        with pytest.raises(ConflictError, match="running already"):
            cameras.start_recognition(DEPLOYMENT, snapshot_id, 0.5, [other])
        with store.db.session() as session, pytest.raises(ConflictError, match="in use"):
            cameras.remove_camera(session, camera_id)
        with pytest.raises(NotFoundError):
            cameras.start_recognition("f" * 32, snapshot_id, 0.5, ["nope"])
        assert cameras.active_deployments() == frozenset({DEPLOYMENT})
    finally:
        cameras.stop_all()
    with store.db.session() as session:
        cameras.remove_camera(session, camera_id)
        assert [c.name for c in cameras.list_cameras(session)] == ["spare"]


def test_camera_definitions_are_checked(settings: Settings, store: Store, engine: FaceEngine, tmp_path: Path) -> None:
    cameras = manager(settings, store, AlertBus(), engine)
    with store.db.session() as session:
        for name, source, message in (
            ("../x", "rtsp://cam/1", "camera name"),
            ("ok", "ftp://cam/1", "unsupported URL scheme"),
            ("ok", str(tmp_path / "missing.mp4"), "no such video file"),
        ):
            with pytest.raises(CameraError, match=message):
                cameras.add_camera(session, name=name, source=source, created_by="admin")
        cameras.add_camera(session, name="door", source="rtsp://user:secret@10.0.0.9/stream", created_by="admin")
        with pytest.raises(ConflictError):
            cameras.add_camera(session, name="door", source="webcam:0", created_by="admin")
        (health,) = cameras.health(cameras.list_cameras(session))
    assert health.state == "idle" and "secret" not in health.target
