"""The scheduler runs recognition only for a live, authorised deployment inside its window, and ends it at the
planned end by itself."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from openlfr.audit import iter_entries, verify_chain
from openlfr.config.governance import GovernanceConfig
from openlfr.config.models import Settings
from openlfr.deployments.notice import record_placement
from openlfr.deployments.scheduler import DeploymentScheduler, TickResult
from openlfr.deployments.service import (
    authorise_deployment,
    create_deployment,
    get_counts,
    get_deployment,
    start_deployment,
)
from openlfr.deployments.types import RunCounts
from openlfr.pipeline.thresholds import SFACE_INT8BQ_TAIL
from openlfr.store.db import Database, open_database
from openlfr.store.models import SnapshotTemplate
from tests.deployments.helpers import T0, CountingController, FakeController, make_snapshot, plan, planner, sgt


@dataclass
class Clock:
    now: datetime

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    database = open_database(Settings(data_dir=tmp_path))
    try:
        yield database
    finally:
        database.close()


def _live(db: Database, *, authorise: bool = True, start: bool = True) -> tuple[str, str]:
    with db.session() as session:
        snapshot = make_snapshot(session)
        deployment = create_deployment(
            session, plan(snapshot.id), by=planner(session), config=GovernanceConfig(), now=T0 - timedelta(days=1)
        )
        if authorise:
            authorise_deployment(
                session,
                deployment.id,
                by=sgt(session),
                text="ok",
                config=GovernanceConfig(),
                now=T0 - timedelta(hours=1),
            )
        if start:
            record_placement(
                session, deployment.id, location="forecourt", by=planner(session), now=T0 - timedelta(hours=1)
            )
            start_deployment(session, deployment.id, by=planner(session), now=T0 - timedelta(minutes=30))
        return deployment.id, snapshot.id


def test_recognition_runs_only_inside_the_window_and_stops_at_the_planned_end(db: Database) -> None:
    deployment_id, snapshot_id = _live(db)
    clock = Clock(T0 - timedelta(minutes=1))
    controller = CountingController(counts=RunCounts(frames=1000, detections=240, tracks=31, tracks_unexamined=2))
    scheduler = DeploymentScheduler(db, controller, clock=clock)
    assert scheduler.tick().started == ()  # live, but before its window
    clock.now = T0
    assert scheduler.tick().started == (deployment_id,)
    floor = round(SFACE_INT8BQ_TAIL.threshold_for_size(3), 4)  # calibrated for the snapshot's 3 templates
    assert controller.running[deployment_id] == (snapshot_id, floor, ("cam-1",))
    assert scheduler.tick().started == ()  # already running: nothing new
    clock.now = T0 + timedelta(hours=4)  # the planned end
    result = scheduler.tick()
    assert result.stopped == (deployment_id,) and result.ended == (deployment_id,)
    assert controller.running == {}
    with db.session() as session:
        deployment = get_deployment(session, deployment_id)
        assert (deployment.status, deployment.end_reason, deployment.templates_destroyed) == (
            "ended",
            "planned end reached",
            3,
        )
        assert session.scalar(select(func.count()).where(SnapshotTemplate.snapshot_id == snapshot_id)) == 0
        assert get_counts(session, deployment_id) == RunCounts(1000, 240, 31, 2)
        actions = [(r.actor, r.action) for r in iter_entries(session, target_id=deployment_id)]
        assert actions[-3:] == [
            ("system:scheduler", "deployment.recognition_started"),
            ("system:scheduler", "deployment.recognition_stopped"),
            ("system:scheduler", "deployment.end"),
        ]
        assert verify_chain(session).ok


def test_authorised_but_not_started_or_draft_deployments_never_run(db: Database) -> None:
    authorised, _ = _live(db, start=False)
    draft, _ = _live(db, authorise=False, start=False)
    controller = FakeController()
    clock = Clock(T0 + timedelta(hours=1))
    scheduler = DeploymentScheduler(db, controller, clock=clock)
    assert scheduler.tick() == TickResult()
    assert controller.calls == []
    # Once their planned end passes they can never run: cancelled, their template copies destroyed.
    clock.now = T0 + timedelta(hours=4)
    assert set(scheduler.tick().ended) == {authorised, draft}
    with db.session() as session:
        for deployment_id in (authorised, draft):
            deployment = get_deployment(session, deployment_id)
            assert (deployment.status, deployment.templates_destroyed) == ("cancelled", 3)
    assert controller.calls == []


def test_recognition_not_belonging_to_a_running_deployment_is_stopped(db: Database) -> None:
    controller = FakeController()
    controller.running["stray"] = ("s", 0.5, ("cam-9",))
    scheduler = DeploymentScheduler(db, controller, clock=Clock(T0))
    assert scheduler.tick().stopped == ("stray",)
    assert controller.running == {}


def test_a_failed_start_is_audited_once_and_retried(db: Database) -> None:
    deployment_id, _ = _live(db)
    controller = FakeController(fail=True)
    scheduler = DeploymentScheduler(db, controller, clock=Clock(T0 + timedelta(minutes=5)))
    assert scheduler.tick().failed == (deployment_id,)
    assert scheduler.tick().failed == (deployment_id,)
    controller.fail = False
    assert scheduler.tick().started == (deployment_id,)
    with db.session() as session:
        failures = list(iter_entries(session, action="deployment.start_failed"))
    assert len(failures) == 1 and failures[0].details["message"] == "camera cam-1 is unreachable"


def test_stop_as_a_lifecycle_step_stops_pipelines_but_leaves_the_deployment_live(db: Database) -> None:
    deployment_id, _ = _live(db)
    controller = FakeController()
    scheduler = DeploymentScheduler(db, controller, interval_s=60, clock=Clock(T0 + timedelta(minutes=5)))
    scheduler.start()
    assert controller.active_deployments() == {deployment_id}
    scheduler.stop()
    assert controller.active_deployments() == frozenset()
    with db.session() as session:
        assert get_deployment(session, deployment_id).status == "live"  # a restart resumes it


def test_counts_are_stored_while_running_and_added_across_restarts(db: Database) -> None:
    """Faces seen must survive a restart of the service: each run counts from zero, the record adds them up;
    and they are written during the run (a crash loses at most one tick), not only at the stop."""
    deployment_id, _ = _live(db)
    clock = Clock(T0)
    controller = CountingController(counts=RunCounts(frames=100, detections=40, tracks=3))
    scheduler = DeploymentScheduler(db, controller, clock=clock)
    assert scheduler.tick().started == (deployment_id,)
    controller.counts = RunCounts(frames=250, detections=90, tracks=7)
    scheduler.tick()  # still running: the figures so far are stored now
    with db.session() as session:
        assert get_counts(session, deployment_id) == RunCounts(250, 90, 7)
    controller.counts = RunCounts(frames=300, detections=100, tracks=8)
    scheduler.stop()  # the service stops inside the window: the deployment stays live
    with db.session() as session:
        assert get_counts(session, deployment_id) == RunCounts(300, 100, 8)
        assert get_deployment(session, deployment_id).status == "live"

    # The service starts again: a new scheduler and a new run, counting from zero.
    controller.counts = RunCounts(frames=50, detections=20, tracks=2)
    restarted = DeploymentScheduler(db, controller, clock=clock)
    assert restarted.tick().started == (deployment_id,)
    restarted.tick()
    with db.session() as session:
        assert get_counts(session, deployment_id) == RunCounts(350, 120, 10)
    clock.now = T0 + timedelta(hours=4)  # the planned end
    assert restarted.tick().ended == (deployment_id,)
    with db.session() as session:
        assert get_counts(session, deployment_id) == RunCounts(350, 120, 10)
        (end,) = [e for e in iter_entries(session, target_id=deployment_id) if e.action == "deployment.end"]
        assert (end.details["faces_seen"], end.details["detections"], end.details["frames"]) == (10, 120, 350)
