"""The camera service: recognition pipelines started and stopped at runtime by the supervisor, alerts stored
with their deployment, health and the blurred preview by the monitor, the registry's rules, and nothing kept of
people who are not on the watchlist."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np
import pytest
from sqlalchemy import select

from openlfr.alerts.sinks import AlertBus
from openlfr.audit import iter_entries
from openlfr.auth.errors import PermissionDeniedError
from openlfr.config.models import Settings
from openlfr.deployments.figures import faces_seen, get_counts
from openlfr.deployments.scheduler import DeploymentCounter, DeploymentScheduler
from openlfr.engine import FaceEngine
from openlfr.service.controller import GalleryRefresher, RecognitionController
from openlfr.service.registry import CameraError, add_camera, list_cameras, remove_camera
from openlfr.store.alert_models import AlertRecord
from openlfr.store.context import Store, open_store
from openlfr.store.errors import ConflictError
from tests.api.conftest import FAKE_ENGINE
from tests.helpers.accounts import person
from tests.helpers.cameras import CameraService, camera_service, register_camera
from tests.helpers.console import end_live, enrol_subject, frame_folder, live_deployment, snapshot
from tests.helpers.waiting import wait_until


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path / "var", cache_dir=tmp_path / "cache", engine=FAKE_ENGINE)


@pytest.fixture
def store(settings: Settings) -> Iterator[Store]:
    with open_store(settings) as store:
        yield store


@pytest.fixture
def engine(settings: Settings) -> FaceEngine:
    return FaceEngine.from_settings(settings)


def manager(settings: Settings, store: Store, bus: AlertBus, engine: FaceEngine) -> CameraService:
    return camera_service(settings, store, bus, lambda: engine)


def add(store: Store, name: str, source: Path, *, loop: bool = False) -> str:
    with store.db.session() as session:
        return register_camera(session, name, str(source), loop=loop).id


def test_a_deployment_raises_alerts_stored_with_its_id_and_pushed_to_the_bus(
    settings: Settings, store: Store, engine: FaceEngine, tmp_path: Path
) -> None:
    subject_id, image_id = enrol_subject(store, engine, 1, "alice")
    snapshot_id = snapshot(store, engine)
    bus = AlertBus()
    heard = bus.subscribe()
    service = manager(settings, store, bus, engine)
    cameras, monitor = service.supervisor, service.monitor
    assert isinstance(cameras, RecognitionController)
    assert isinstance(cameras, DeploymentCounter) and isinstance(cameras, GalleryRefresher)
    camera_id = add(store, "gate-1", frame_folder(tmp_path / "gate", 1, 12))
    mandate = live_deployment(store, snapshot_id, [camera_id])
    deployment = mandate.deployment_id
    cameras.start_recognition(mandate)
    try:
        assert cameras.active_deployments() == frozenset({deployment})
        assert wait_until(lambda: cameras.run_finished(deployment), 30)
        record = heard.get(timeout=5)
        assert record["deployment_id"] == deployment and record["seq"] == 1
        with store.db.session() as session:
            (alert,) = session.scalars(select(AlertRecord)).all()
            assert (alert.deployment_id, alert.mode, alert.source) == (deployment, "production", "gate-1")
            assert alert.subject_id == subject_id and alert.reference_image == image_id
            assert alert.status == "pending" and alert.threshold == 0.5
            assert alert.context_media is not None  # the default: the decisive frame, others blurred
            health = monitor.health(list_cameras(session))
        assert health[0].deployment_id == deployment and health[0].state == "ended"
        assert health[0].frames == 12 and health[0].alerts == 1 and health[0].faces >= 12
        assert health[0].tracks >= 1 and health[0].latency_p50_ms is not None
        assert monitor.preview_jpeg(camera_id) is None  # the source ended: nothing to show
        samples = {(s.name, s.labels.get("le")): s for family in monitor.collect() for s in family.samples}
        assert samples["openlfr_camera_alerts_total", None].value == 1
        assert samples["openlfr_camera_frames_total", None].labels == {"camera": "gate-1"}
        frames = samples["openlfr_frame_latency_seconds_count", None]  # a histogram: every frame, since the start
        assert frames.labels == {"deployment": deployment} and frames.value == 12
        assert samples["openlfr_frame_latency_seconds_bucket", "+Inf"].value == 12
        assert samples["openlfr_alert_latency_seconds_count", None].value == 1
        assert samples["openlfr_deployments_running", None].value == 1
        assert samples["openlfr_camera_tracks_unexamined_total", None].value == 0  # a file waits for the models
        # the bus is shared: ending a pipeline does not close it
        bus.push({"x": 1})
        assert heard.get_nowait() == {"x": 1}
    finally:
        cameras.stop_recognition(deployment)
    assert cameras.active_deployments() == frozenset()
    cameras.stop_recognition(deployment)  # a second stop is a no-op


def test_passers_by_leave_nothing_behind(settings: Settings, store: Store, engine: FaceEngine, tmp_path: Path) -> None:
    enrol_subject(store, engine, 1, "alice")
    snapshot_id = snapshot(store, engine)
    media_before = sorted(p for p in (settings.data_dir / "media").rglob("*") if p.is_file())
    service = manager(settings, store, AlertBus(), engine)
    cameras = service.supervisor
    camera_id = add(store, "street", frame_folder(tmp_path / "street", 7, 12))
    mandate = live_deployment(store, snapshot_id, [camera_id])
    cameras.start_recognition(mandate)
    assert wait_until(lambda: cameras.run_finished(mandate.deployment_id), 30)
    cameras.stop_recognition(mandate.deployment_id)
    with store.db.session() as session:
        assert session.scalars(select(AlertRecord)).all() == []
        assert service.monitor.health(list_cameras(session))[0].state == "idle"
    assert sorted(p for p in (settings.data_dir / "media").rglob("*") if p.is_file()) == media_before


@pytest.mark.slow
def test_preview_blanks_every_face_and_cameras_are_guarded_while_in_use(
    settings: Settings, store: Store, engine: FaceEngine, tmp_path: Path
) -> None:
    enrol_subject(store, engine, 1, "alice")
    snapshot_id = snapshot(store, engine)
    service = manager(settings, store, AlertBus(), engine)
    cameras, monitor = service.supervisor, service.monitor
    camera_id = add(store, "loop", frame_folder(tmp_path / "loop", 3, 4), loop=True)
    other = add(store, "spare", frame_folder(tmp_path / "spare", 3, 2))
    mandate = live_deployment(store, snapshot_id, [camera_id])
    cameras.start_recognition(mandate)
    try:
        assert wait_until(lambda: monitor.preview_jpeg(camera_id) is not None)
        data = monitor.preview_jpeg(camera_id)
        assert data is not None
        preview = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
        assert preview.shape[:2] == (400, 400)
        face = preview[110:250, 130:270].astype(float)
        assert face.std(axis=(0, 1)).max() < 3  # the textured face is one flat patch now
        assert monitor.preview_jpeg(other) is None
        second = live_deployment(store, snapshot(store, engine), [camera_id])
        with pytest.raises(ConflictError, match="in use"):
            cameras.start_recognition(second)
        with pytest.raises(ConflictError, match="running already"):
            cameras.start_recognition(mandate)
        with store.db.session() as session, pytest.raises(ConflictError, match="in use"):
            remove_camera(session, camera_id, by=person(session, "admin", "admin"), reading=monitor.deployment_of)
        assert cameras.active_deployments() == frozenset({mandate.deployment_id})
    finally:
        cameras.stop_all()
    with store.db.session() as session, pytest.raises(ConflictError, match="named by deployment"):
        # deployments that are not over keep their cameras
        remove_camera(session, camera_id, by=person(session, "admin", "admin"), reading=monitor.deployment_of)
    end_live(store, mandate.deployment_id)
    end_live(store, second.deployment_id)
    with store.db.session() as session:
        remove_camera(session, camera_id, by=person(session, "admin", "admin"), reading=monitor.deployment_of)
        assert [c.name for c in list_cameras(session)] == ["spare"]


def test_camera_definitions_are_checked(settings: Settings, store: Store, engine: FaceEngine, tmp_path: Path) -> None:
    monitor = manager(settings, store, AlertBus(), engine).monitor
    with store.db.session() as session:
        for name, source, message in (
            ("../x", "rtsp://cam/1", "camera name"),
            ("ok", "ftp://cam/1", "unsupported URL scheme"),
            ("ok", str(tmp_path / "missing.mp4"), "no such video file"),
        ):
            with pytest.raises(CameraError, match=message):
                register_camera(session, name, source)
        register_camera(session, "door", "rtsp://user:secret@10.0.0.9/stream")
        with pytest.raises(ConflictError):
            register_camera(session, "door", "webcam:0")
        (health,) = monitor.health(list_cameras(session))
    assert health.state == "idle" and "secret" not in health.target


def test_the_registry_audits_its_own_changes_in_the_same_transaction(store: Store, tmp_path: Path) -> None:
    with store.db.session() as session:
        ada = person(session, "ada", "admin")
        otto = person(session, "otto", "operator")
    with store.db.session() as session, pytest.raises(PermissionDeniedError):
        add_camera(session, name="gate", source="webcam:0", by=otto)  # cameras:manage is an admin's
    with pytest.raises(RuntimeError), store.db.session() as session:
        add_camera(session, name="lost", source="webcam:1", by=ada)
        raise RuntimeError("the caller's transaction fails")  # the camera and its entry go together
    with store.db.session() as session:
        record = add_camera(session, name="gate", source="rtsp://u:pw@10.0.0.1/s", by=ada, location="north")
        camera_id = record.id
        assert record.created_by == ada.label
    with store.db.session() as session:
        remove_camera(session, camera_id, by=ada)
    with store.db.session() as session:
        assert list_cameras(session) == []
        entries = [(e.action, e.actor, e.target_id, e.details) for e in iter_entries(session, target_type="camera")]
    assert entries == [
        ("camera.add", ada.actor, camera_id, {"name": "gate"}),
        ("camera.remove", ada.actor, camera_id, {"name": "gate"}),
    ]


def test_the_supervisor_counts_a_run_from_its_status_then_its_summary(
    settings: Settings, store: Store, engine: FaceEngine, tmp_path: Path
) -> None:
    enrol_subject(store, engine, 1, "alice")
    snapshot_id = snapshot(store, engine)
    cameras = manager(settings, store, AlertBus(), engine).supervisor
    camera_id = add(store, "gate-1", frame_folder(tmp_path / "gate", 1, 12))
    mandate = live_deployment(store, snapshot_id, [camera_id])
    deployment = mandate.deployment_id
    assert cameras.deployment_counts(deployment) is None  # never ran here
    cameras.start_recognition(mandate)
    try:
        assert wait_until(lambda: cameras.run_finished(deployment), 30)
        run = cameras.run_of(deployment)
        assert run is not None and run.state == "ended" and run.cameras == ((camera_id, "gate-1"),)
        (camera,) = run.status.cameras
        assert (camera.source_id, camera.frames, camera.alerts) == ("gate-1", 12, 1) and camera.tracks >= 1
        running = cameras.deployment_counts(deployment)
        assert running is not None and (running.frames, running.tracks) == (12, camera.tracks)
    finally:
        cameras.stop_recognition(deployment)
    assert cameras.run_of(deployment) is None and cameras.runs() == ()
    stopped = cameras.deployment_counts(deployment)
    assert stopped == running  # the run's summary, kept until the deployment starts again


@pytest.mark.slow
def test_under_the_scheduler_the_deployment_figures_hold_what_the_pipeline_counted(
    settings: Settings, store: Store, engine: FaceEngine, tmp_path: Path
) -> None:
    """What ``lfr serve`` does: the scheduler starts the deployment through the supervisor and stores the
    supervisor's counts; faces seen (tracks) is never left unrecorded."""
    enrol_subject(store, engine, 1, "alice")
    snapshot_id = snapshot(store, engine)
    cameras = manager(settings, store, AlertBus(), engine).supervisor
    camera_id = add(store, "gate-1", frame_folder(tmp_path / "gate", 1, 12))
    deployment = live_deployment(store, snapshot_id, [camera_id]).deployment_id
    scheduler = DeploymentScheduler(store.db, cameras)
    assert scheduler.tick().started == (deployment,)
    assert wait_until(lambda: cameras.run_finished(deployment), 30)
    counted = cameras.deployment_counts(deployment)
    scheduler.stop()  # stops every pipeline it runs and adds their last counts
    assert cameras.active_deployments() == frozenset()
    with store.db.session() as session:
        stored = get_counts(session, deployment)
        seen = faces_seen(session, deployment)
    assert counted is not None and stored == counted
    assert stored.frames == 12 and stored.tracks >= 1 and seen == stored.tracks


def test_the_pipeline_section_of_the_settings_reaches_the_deployments_pipelines(
    settings: Settings, store: Store, engine: FaceEngine, tmp_path: Path
) -> None:
    """docs/PIPELINE.md: `pipeline: {context_frames: false}` stores no context frame beside an alert; the
    deployment's threshold still wins over the section's."""
    enrol_subject(store, engine, 1, "alice")
    snapshot_id = snapshot(store, engine)
    quiet = settings.model_copy(
        update={"pipeline": settings.pipeline.model_copy(update={"context_frames": False, "threshold": 0.99})}
    )
    cameras = manager(quiet, store, AlertBus(), engine).supervisor
    camera_id = add(store, "gate-1", frame_folder(tmp_path / "gate", 1, 12))
    mandate = live_deployment(store, snapshot_id, [camera_id])
    cameras.start_recognition(mandate)
    try:
        assert wait_until(lambda: cameras.run_finished(mandate.deployment_id), 30)
    finally:
        cameras.stop_all()
    with store.db.session() as session:
        (alert,) = session.scalars(select(AlertRecord)).all()
    assert alert.threshold == mandate.threshold == 0.5 and alert.context_media is None
