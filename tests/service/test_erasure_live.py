"""Erasure reaches running pipelines before the erase call returns: after it, no alert about the erased
subject is stored or pushed, whether the erasure comes through the domain function, the API, or another
process (the alert store refuses it then).

The camera is a looping image folder in which the listed person walks past (then leaves for longer than a
track lives), so every pass is a new encounter with its own alert: on main (1726c64) the pipeline went on
alerting on an erased subject for as long as it ran.
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import cv2
import numpy as np
import pytest
from sqlalchemy import select

from openlfr.alerts.db_store import DbAlertStore
from openlfr.alerts.dispatch import AlertDispatcher
from openlfr.alerts.sinks import AlertBus, Record
from openlfr.alerts.store import SubjectGoneError
from openlfr.auth.principal import Principal
from openlfr.config.models import Settings
from openlfr.engine import FaceEngine
from openlfr.service.monitor import CameraMonitor
from openlfr.service.registry import list_cameras
from openlfr.store.alert_models import AlertRecord
from openlfr.store.context import Store, open_store
from openlfr.store.models import Subject
from openlfr.utc import utcnow
from openlfr.watchlists.erase import erase_subject
from tests.api.conftest import FAKE_ENGINE, build_api, make_settings
from tests.deployments.helpers import alert_event
from tests.helpers.cameras import camera_service, register_camera
from tests.helpers.console import enrol_subject, live_deployment, snapshot
from tests.helpers.subjects import alerts_since
from tests.helpers.waiting import wait_until
from tests.watchlists.helpers import face_image

PASS_WITH_FACE = 6
PASS_WITHOUT = 14  # longer than a track lives (10 frames): the next pass is a new track, hence a new alert
PASS = PASS_WITH_FACE + PASS_WITHOUT


class RecordingBus(AlertBus):
    """The console's bus, remembering what was pushed after ``erased`` was set."""

    def __init__(self) -> None:
        super().__init__()
        self.erased = threading.Event()
        self.after: list[Record] = []

    def push(self, record: Record) -> None:
        if self.erased.is_set():
            self.after.append(record)
        super().push(record)


def passing_by(folder: Path, seed: int) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for index in range(PASS):
        image = face_image(seed, noise=1 + index % 3) if index < PASS_WITH_FACE else np.zeros((400, 400, 3), np.uint8)
        cv2.imwrite(str(folder / f"{index:04d}.png"), image)
    return folder


def frames_seen(monitor: CameraMonitor, store: Store) -> int:
    with store.db.session() as session:
        return sum(h.frames for h in monitor.health(list_cameras(session)))


def erase_while_live(
    store: Store,
    engine: FaceEngine,
    monitor: CameraMonitor,
    bus: RecordingBus,
    tmp_path: Path,
    erase: Callable[[str], None],
) -> None:
    alice, _ = enrol_subject(store, engine, 1, "alice")
    enrol_subject(store, engine, 2, "bob")  # stays listed: the pipeline must go on running for him
    snapshot_id = snapshot(store, engine)
    cameras = monitor.supervisor
    with store.db.session() as session:
        camera_id = register_camera(session, "gate", str(passing_by(tmp_path / "gate", 1)), loop=True).id
    heard = bus.subscribe(maxsize=1000)
    cameras.start_recognition(live_deployment(store, snapshot_id, [camera_id]))
    try:
        for _ in range(2):  # the looping camera alerts on every pass
            assert heard.get(timeout=120)["subject_id"] == alice
        erase(alice)
        returned_at = utcnow()
        bus.erased.set()
        seen = frames_seen(monitor, store)
        # Four more passes of the erased person in front of the camera.
        assert wait_until(lambda: frames_seen(monitor, store) >= seen + 4 * PASS, 120)
        with store.db.session() as session:
            (health,) = monitor.health(list_cameras(session))
        assert health.state == "running", health  # still recognising (bob), not stopped
    finally:
        cameras.stop_all()
    assert [r for r in bus.after if r["subject_id"] == alice] == []
    assert alerts_since(store, alice, returned_at) == []


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path / "var", engine=FAKE_ENGINE)


@pytest.fixture
def store(settings: Settings) -> Iterator[Store]:
    with open_store(settings) as store:
        yield store


@pytest.mark.slow
def test_erasure_through_the_domain_function_stops_alerts_before_it_returns(
    settings: Settings, store: Store, tmp_path: Path
) -> None:
    engine = FaceEngine.from_settings(settings)
    bus = RecordingBus()
    monitor = camera_service(settings, store, bus, lambda: engine).monitor

    def erase(subject_id: str) -> None:
        erase_subject(store, subject_id, by=_dpo(store), reason="erasure request 7")

    erase_while_live(store, engine, monitor, bus, tmp_path, erase)


@pytest.mark.slow
def test_erasure_through_the_api_stops_alerts_before_it_answers(tmp_path: Path) -> None:
    bus = RecordingBus()
    running = build_api(make_settings(tmp_path / "api"), bus=bus)
    api = next(running)
    try:
        services = api.app.state.ctx.services
        monitor = services.cameras
        monitor.supervisor.bus = bus  # build_api's supervisor was made with its own bus
        supervisor = {"Authorization": f"Bearer {api.token('supervisor', name='dpo-desk')}"}
        client = api.client()

        def erase(subject_id: str) -> None:
            answer = client.post(f"/api/subjects/{subject_id}/erase", json={"reason": "request 8"}, headers=supervisor)
            assert answer.status_code == 200, answer.text

        erase_while_live(services.store, services.enroller.engine, monitor, bus, tmp_path, erase)
    finally:
        running.close()


def test_an_alert_about_a_subject_erased_elsewhere_is_refused_at_the_store(store: Store, settings: Settings) -> None:
    """Another process erased the subject (this process's pipelines did not hear of it): the alert insert
    refuses the alert in its own transaction and keeps none of its images, and the dispatcher drops it (and
    forgets the subject) instead of stopping the pipeline."""
    engine = FaceEngine.from_settings(settings)
    alice, image_id = enrol_subject(store, engine, 1, "alice")
    bob, _ = enrol_subject(store, engine, 2, "bob")
    with store.db.session() as session:  # what an erasure in another process leaves behind: no subject row
        session.delete(session.get(Subject, alice))
    media_before = sorted(p for p in (settings.data_dir / "media").rglob("*") if p.is_file())
    bus = RecordingBus()
    heard = bus.subscribe()
    alerts = AlertDispatcher(DbAlertStore(store.db, store.media, check_subjects=True), [bus])
    about_alice = dataclasses.replace(alert_event("a" * 32, 0.0), subject_id=alice, reference_image=image_id)
    assert alerts.publish(about_alice) is None  # dropped, not raised
    assert heard.empty() and alerts.dropped_erased == 1
    with store.db.session() as session:
        assert session.scalars(select(AlertRecord)).all() == []
    assert sorted(p for p in (settings.data_dir / "media").rglob("*") if p.is_file()) == media_before
    with pytest.raises(SubjectGoneError):
        DbAlertStore(store.db, store.media, check_subjects=True).append(about_alice)
    about_bob = dataclasses.replace(alert_event("b" * 32, 0.0), subject_id=bob)
    assert alerts.publish(about_bob) is not None and heard.get_nowait()["subject_id"] == bob


def test_the_service_gallery_catches_up_with_an_erasure_made_by_another_process(
    settings: Settings, store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = FaceEngine.from_settings(settings)
    alice, _ = enrol_subject(store, engine, 1, "alice")
    bob, _ = enrol_subject(store, engine, 2, "bob")
    snapshot_id = snapshot(store, engine)
    cameras = camera_service(settings, store, AlertBus(), lambda: engine, realtime_files=True).supervisor
    with store.db.session() as session:
        camera_id = register_camera(session, "gate", str(passing_by(tmp_path / "gate", 1)), loop=True).id
    mandate = live_deployment(store, snapshot_id, [camera_id])
    cameras.start_recognition(mandate)
    try:
        pipeline = cameras._runs[mandate.deployment_id].pipeline
        with monkeypatch.context() as elsewhere:  # this process's pipelines hear nothing of it
            elsewhere.setattr("openlfr.watchlists.erase._listeners", [])
            erase_subject(store, alice, by=_dpo(store), reason="erased from another process")
        assert pipeline.searched_subjects() == {alice, bob}
        cameras.refresh_galleries()  # what the deployment scheduler does every tick
        assert pipeline.searched_subjects() == {bob}
    finally:
        cameras.stop_all()


def _dpo(store: Store) -> Principal:
    """The supervisor who erases (erasing a subject is a watchlist supervisor's action)."""
    from tests.helpers.accounts import person

    with store.db.session() as session:
        return person(session, "dpo", "supervisor")
