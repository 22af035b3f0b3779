"""Seeding for console/API/service tests: fake-engine subjects, snapshots, camera frame folders, alerts."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date, timedelta
from pathlib import Path

import cv2

from openlfr.alerts.db_store import DbAlertStore
from openlfr.alerts.dispatch import AlertDispatcher
from openlfr.alerts.event import AlertEvent
from openlfr.alerts.sinks import AlertBus
from openlfr.config.governance import GovernanceConfig
from openlfr.deployments.mandate import issue_mandate
from openlfr.deployments.notice import record_placement
from openlfr.deployments.service import (
    authorise_deployment,
    create_deployment,
    end_deployment,
    start_deployment,
)
from openlfr.deployments.types import DeploymentPlan, ThresholdReasons
from openlfr.engine import FaceEngine
from openlfr.sources.mandate import RecognitionMandate
from openlfr.store.context import Store
from openlfr.store.models import ReferenceImage
from openlfr.utc import utcnow
from openlfr.watchlists.enrol import Enroller, EnrolRequest
from openlfr.watchlists.snapshots import create_snapshot
from openlfr.watchlists.subjects import add_member, create_watchlist, find_watchlist, get_subject
from openlfr.watchlists.types import Category, Outcome, SubjectInfo
from tests.helpers.accounts import person
from tests.watchlists.helpers import face_image

TODAY = date(2026, 11, 26)


def png(seed: int, *, noise: int = 0) -> bytes:
    ok, data = cv2.imencode(".png", face_image(seed, noise=noise))
    assert ok
    return data.tobytes()


def enrol_subject(store: Store, engine: FaceEngine, seed: int, ref: str, watchlist: str = "wl") -> tuple[str, str]:
    """Enrol ``face_image(seed)`` as subject ``ref`` on ``watchlist``; returns (subject id, reference image id)."""
    info = SubjectInfo(
        ref, Category.WANTED_BY_COURTS, "warrant 123", "custody_image", "tester", date(2030, 1, 1), ref.title()
    )
    with store.db.session() as session:
        by = person(session, "tester", "supervisor")
    result = Enroller(store, engine, 0.99).enrol(EnrolRequest(ref, png(seed), f"{ref}.png", info=info, by=by))
    assert result.outcome is Outcome.ENROLLED, result
    with store.db.session() as session:
        by = person(session, "tester", "supervisor")
        found = find_watchlist(session, watchlist) or create_watchlist(session, watchlist, by=by)
        subject = get_subject(session, ref)
        add_member(session, found, subject, by=by)
        image = session.query(ReferenceImage).filter_by(subject_id=subject.id).one()
        return subject.id, image.id


def snapshot(store: Store, engine: FaceEngine, watchlist: str = "wl") -> str:
    with store.db.session() as session:
        by = person(session, "tester", "supervisor")
        return create_snapshot(session, watchlist, engine.contract, TODAY, by=by).id


def frame_folder(folder: Path, seed: int, frames: int) -> Path:
    """An image-folder "camera" showing ``face_image(seed)`` (slightly changing noise) for ``frames`` frames."""
    folder.mkdir(parents=True, exist_ok=True)
    for index in range(frames):
        cv2.imwrite(str(folder / f"{index:04d}.png"), face_image(seed, noise=1 + index % 3))
    return folder


def store_alert(
    store: Store,
    subject_id: str,
    reference_image_id: str,
    *,
    source: str = "cam1",
    bus: AlertBus | None = None,
    score: float = 0.81,
    decided_at: float = 1_795_000_000.2,
    deployment_id: str = "d" * 32,
) -> dict[str, object]:
    """One alert as the pipeline would store it (images are small synthetic JPEGs), then tell ``bus``."""
    ok, probe = cv2.imencode(".jpg", face_image(1)[100:260, 120:280])
    ok2, context = cv2.imencode(".jpg", face_image(1))
    assert ok and ok2
    event = AlertEvent(
        alert_id=uuid.uuid4().hex,
        mode="production",
        source=source,
        track_id=3,
        subject_id=subject_id,
        score=score,
        second_score=0.2,
        evidence=3,
        threshold=0.5,
        frame_index=40,
        frame_time_s=1.6,
        frame_wall_time=1_795_000_000.0,
        decided_at=decided_at,
        latency_ms=200.0,
        model="fake",
        reference_image=reference_image_id,
        probe_jpeg=probe.tobytes(),
        context_jpeg=context.tobytes(),
    )
    return AlertDispatcher(
        DbAlertStore(store.db, store.media, deployment_id=deployment_id), [bus] if bus else []
    ).publish(event)


def live_deployment(
    store: Store, snapshot_id: str, camera_ids: Sequence[str], *, threshold: float = 0.5, hours: float = 4.0
) -> RecognitionMandate:
    """A deployment of ``snapshot_id`` on ``camera_ids``, created, authorised and started through the deployments
    domain (window: from a minute ago for ``hours``, on the wall clock), and the mandate the scheduler would
    start its recognition with."""
    now = utcnow()
    plan = DeploymentPlan(
        name="test deployment",
        use_case="test",
        purpose="test",
        legal_basis="test",
        justification="test",
        location="test bench",
        planned_start=now - timedelta(minutes=1),
        planned_end=now + timedelta(hours=hours),
        camera_ids=tuple(camera_ids),
        snapshot=snapshot_id,
        threshold=threshold,
        signage_confirmed=True,
    )
    # One test supervisor plans, overrides (test models have no calibrated threshold), authorises and starts:
    # separation of duties is switched off for this fixture only; its rules have tests of their own.
    config = GovernanceConfig(separation_of_duties=False)
    reasons = ThresholdReasons(override="test models have no calibrated threshold")
    with store.db.session() as session:
        sgt = person(session, "test-sgt", "supervisor")
        deployment = create_deployment(session, plan, by=sgt, config=config, now=now, reasons=reasons)
        authorise_deployment(session, deployment.id, by=sgt, text="test", config=config, now=now)
        record_placement(session, deployment.id, location="test bench entrances", by=sgt, now=now)
        start_deployment(session, deployment.id, by=sgt, now=now)
        return issue_mandate(session, deployment.id, now=now)


def end_live(store: Store, deployment_id: str) -> None:
    """End a deployment made by ``live_deployment`` (its cameras can be removed afterwards)."""
    with store.db.session() as session:
        sgt = person(session, "test-sgt", "supervisor")
        end_deployment(session, deployment_id, by=sgt, reason="test over", now=utcnow())
