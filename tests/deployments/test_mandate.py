"""The one door to recognition on cameras: only the deployments domain issues a mandate, only for a live,
authorised deployment inside its window, and the sources and pipeline layers refuse live sources without one
(or beyond what it names)."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from openlfr.alerts.dispatch import AlertDispatcher
from openlfr.alerts.store import FileAlertStore
from openlfr.config.governance import GovernanceConfig
from openlfr.config.models import EngineConfig, FakeDetectorConfig, FakeEmbedderConfig, Settings, SourceConfig
from openlfr.deployments.mandate import issue_mandate
from openlfr.deployments.notice import record_placement
from openlfr.deployments.service import authorise_deployment, create_deployment, start_deployment, update_deployment
from openlfr.deployments.types import DeploymentChanges, DeploymentError, DeploymentStateError
from openlfr.engine import FaceEngine
from openlfr.pipeline.app import WatchPipeline
from openlfr.pipeline.config import PipelineConfig
from openlfr.pipeline.thresholds import SFACE_INT8BQ_TAIL
from openlfr.service.registry import CameraError, check_camera
from openlfr.sources.factory import open_source
from openlfr.sources.hosts import SourceNotAllowedError
from openlfr.sources.mandate import RecognitionMandate, RecognitionNotAuthorisedError
from openlfr.store.camera_models import CameraRecord
from openlfr.store.db import Database, open_database
from tests.deployments.helpers import T0, make_snapshot, plan, planner, sgt
from tests.pipeline.conftest import ListSource, fake_watchlist, scene

SRC = Path(__file__).resolve().parents[2] / "src" / "openlfr"


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    database = open_database(Settings(data_dir=tmp_path))
    try:
        yield database
    finally:
        database.close()


def _deployment(db: Database, *, start: bool = True) -> str:
    with db.session() as session:
        snapshot = make_snapshot(session)
        config = GovernanceConfig()
        deployment = create_deployment(
            session, plan(snapshot.id), by=planner(session), config=config, now=T0 - timedelta(days=1)
        )
        authorise_deployment(
            session, deployment.id, by=sgt(session), text="ok", config=config, now=T0 - timedelta(hours=1)
        )
        if start:
            record_placement(
                session, deployment.id, location="exits", by=planner(session), now=T0 - timedelta(minutes=1)
            )
            start_deployment(session, deployment.id, by=planner(session), now=T0 - timedelta(minutes=1))
        return deployment.id


def test_a_mandate_is_issued_only_for_a_live_authorised_deployment_in_its_window(db: Database) -> None:
    authorised = _deployment(db, start=False)
    live = _deployment(db)
    with db.session() as session:
        with pytest.raises(DeploymentStateError, match="live, authorised"):
            issue_mandate(session, authorised, now=T0)
        with pytest.raises(DeploymentStateError, match="outside its planned window"):
            issue_mandate(session, live, now=T0 - timedelta(minutes=1))
        with pytest.raises(DeploymentStateError, match="outside its planned window"):
            issue_mandate(session, live, now=T0 + timedelta(hours=4))
        mandate = issue_mandate(session, live, now=T0)
    floor = round(SFACE_INT8BQ_TAIL.threshold_for_size(3), 4)  # calibrated for the snapshot's 3 templates
    assert mandate.deployment_id == live and mandate.threshold == floor
    assert [(c.camera_id, c.name) for c in mandate.cameras] == [("cam-1", "cam-1")]
    assert mandate.valid_at(T0) and not mandate.valid_at(T0 + timedelta(hours=4))
    with db.session() as session:  # a camera deregistered behind the deployment's back
        session.delete(session.get(CameraRecord, "cam-1"))
    with db.session() as session, pytest.raises(DeploymentError, match="not registered"):
        issue_mandate(session, live, now=T0)


def test_a_changed_deployment_needs_authorising_again_before_any_mandate(db: Database) -> None:
    deployment_id = _deployment(db, start=False)
    with db.session() as session:
        update_deployment(
            session,
            deployment_id,
            DeploymentChanges(name="moved"),
            by=planner(session),
            config=GovernanceConfig(),
            now=T0,
        )
        with pytest.raises(DeploymentStateError):
            issue_mandate(session, deployment_id, now=T0)


def test_nothing_but_the_deployments_domain_issues_mandates() -> None:
    callers = [
        str(path.relative_to(SRC))
        for path in SRC.rglob("*.py")
        if re.search(r"RecognitionMandate\.issue\(", path.read_text(encoding="utf-8"))
    ]
    assert callers == ["deployments/mandate.py"]
    with pytest.raises(RecognitionNotAuthorisedError, match="never built by hand"):
        RecognitionMandate("d", 1, "s", "f", 0.5, (), T0, T0, T0, object())


def test_live_sources_open_only_under_a_mandate_that_names_them(db: Database) -> None:
    with db.session() as session:
        mandate = issue_mandate(session, _deployment(db), now=T0)
    granted = mandate.cameras[0].source
    for spec in ("rtsp://127.0.0.1:9/other", "webcam:0", "http://127.0.0.1:9/x.mjpg"):
        with pytest.raises(RecognitionNotAuthorisedError):
            open_source(spec)
        with pytest.raises(RecognitionNotAuthorisedError, match="names no registered camera"):
            open_source(spec, mandate=mandate, now=T0)
    with pytest.raises(RecognitionNotAuthorisedError, match="not valid now"):
        open_source(granted, mandate=mandate, now=T0 + timedelta(hours=5))
    with pytest.raises(SourceNotAllowedError, match="allowed_hosts"):
        open_source(granted, mandate=mandate, now=T0, config=SourceConfig(allowed_hosts=("10.0.0.0/8",)))
    source = open_source(granted, mandate=mandate, now=T0, config=SourceConfig(allowed_hosts=("127.0.0.0/8",)))
    try:
        assert source.live and source.source_id
    finally:
        source.close()


def test_a_pipeline_runs_exactly_what_its_mandate_says(db: Database, tmp_path: Path) -> None:
    engine = FaceEngine.from_settings(
        Settings(engine=EngineConfig(detector=FakeDetectorConfig(), embedder=FakeEmbedderConfig()))
    )
    watchlist = fake_watchlist(engine, (0,))
    with db.session() as session:
        mandate = issue_mandate(session, _deployment(db), now=T0)

    def pipeline(
        name: str, threshold: float, snapshot_name: str, clock: Callable[[], datetime] = lambda: T0
    ) -> WatchPipeline:
        camera = ListSource(name, [scene([(0, 100, 80)])], endless=True, live=True)
        return WatchPipeline(
            engine,
            dataclasses.replace(watchlist, name=snapshot_name),
            [camera],
            AlertDispatcher(FileAlertStore(tmp_path), []),
            PipelineConfig(threshold=threshold),
            mode="production",
            mandate=mandate,
            clock=clock,
        )

    with pytest.raises(RecognitionNotAuthorisedError, match="not cameras of the deployment"):
        pipeline("elsewhere", mandate.threshold, mandate.snapshot_id)
    with pytest.raises(RecognitionNotAuthorisedError, match="threshold"):
        pipeline("cam-1", 0.2, mandate.snapshot_id)
    with pytest.raises(RecognitionNotAuthorisedError, match="snapshot"):
        pipeline("cam-1", mandate.threshold, "another snapshot")
    # The right camera, snapshot and threshold: it runs, and stops by itself at the end of the window.
    times = iter([T0, T0, T0])
    running = pipeline("cam-1", mandate.threshold, mandate.snapshot_id, lambda: next(times, T0 + timedelta(hours=5)))
    summary = running.run()
    assert summary.halted == "mandate_expired" and not summary.stopped


def test_the_camera_allow_list_is_checked_when_a_camera_is_added() -> None:
    allowed = ("cams.example.org", "10.20.0.0/16")
    check_camera("gate", "rtsp://user:pw@10.20.3.4/stream", allowed)
    check_camera("door", "rtsp://CAMS.example.org./live", allowed)
    for source in ("rtsp://10.21.0.1/stream", "http://evil.example.org/x.mjpg", "rtsp://cams.example.org.evil.net/s"):
        with pytest.raises(CameraError, match="allowed_hosts") as refused:
            check_camera("gate", source, allowed)
        assert refused.value.code == "camera_host_not_allowed"
    check_camera("webcam", "webcam:0", allowed)  # a local device has no host
    with pytest.raises(ValueError, match="neither a host name nor an IP network"):
        SourceConfig(allowed_hosts=("not a host!",))
