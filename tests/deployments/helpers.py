"""Building blocks for governance tests: a snapshot with templates, supervisor accounts, plans, a fake
recognition controller."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

import numpy as np
from sqlalchemy.orm import Session

from openlfr.alerts.event import AlertEvent
from openlfr.auth.principal import Principal
from openlfr.deployments.types import DeploymentPlan, RunCounts
from openlfr.errors import OpenLFRError
from openlfr.pipeline.thresholds import SFACE_INT8BQ, SFACE_INT8BQ_TAIL
from openlfr.sources.mandate import RecognitionMandate
from openlfr.store.camera_models import CameraRecord
from openlfr.store.models import Snapshot, SnapshotTemplate, Subject, Watchlist, new_id
from tests.helpers.accounts import insert_user, person

T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


def register_cameras(session: Session, *camera_ids: str) -> None:
    """Registered cameras with these ids (deployments name registered cameras only); idempotent."""
    for camera_id in camera_ids:
        if session.get(CameraRecord, camera_id) is None:
            session.add(
                CameraRecord(id=camera_id, name=camera_id, source=f"rtsp://127.0.0.1:9/{camera_id}", created_by="test")
            )
    session.flush()


def make_snapshot(
    session: Session,
    *,
    templates: int = 3,
    model: str = SFACE_INT8BQ.model,
    weights: str = SFACE_INT8BQ.weights_sha256,
    minors: Sequence[str] = (),
) -> Snapshot:
    """A snapshot of ``templates`` subjects (one template each, wanted by the courts, custody images);
    ``minors``: minor justifications for that many of them, who are flagged under 18 ("" = none recorded)."""
    register_cameras(session, "cam-1")
    watchlist = Watchlist(name=f"wl-{new_id()[:8]}")
    session.add(watchlist)
    session.flush()
    rng = np.random.default_rng(len(watchlist.name))
    digests = [hashlib.sha256(f"{watchlist.id}-{i}".encode()).hexdigest() for i in range(templates)]
    snapshot = Snapshot(
        watchlist_id=watchlist.id,
        as_of=date(2026, 12, 1),
        fingerprint=hashlib.sha256("".join(digests).encode()).hexdigest(),
        template_count=templates,
        subject_count=templates,
        excluded=[],
        model=model,
        weights_sha256=weights,
        dimension=128,
        preprocessing="test",
    )
    session.add(snapshot)
    session.flush()
    for i, digest in enumerate(digests):
        vector = rng.standard_normal(128).astype(np.float32)
        subject = Subject(
            external_ref=f"{watchlist.name}-{i}",
            category="wanted_by_courts",
            reason="warrant",
            image_source="custody_image",
            added_by="test",
            review_by=date(2099, 1, 1),
            under_18=i < len(minors),
            minor_justification=minors[i] if i < len(minors) else "",
        )
        session.add(subject)
        session.flush()
        session.add(
            SnapshotTemplate(
                snapshot_id=snapshot.id, subject_id=subject.id, template_digest=digest, vector=vector.tobytes()
            )
        )
    session.flush()
    return snapshot


def add_user(session: Session, username: str, role: str) -> None:
    insert_user(session, username, role)


def calibration_report(
    *, watchlist_size: int, passers_by: int, false_alerts: float, equity: tuple[float, float] | None = None
) -> dict[str, Any]:
    """An `lfr calibrate --json` result for the SFace model with the shipped tail fit and the given budget."""
    tail = replace(SFACE_INT8BQ_TAIL, passers_by=passers_by, false_alerts=false_alerts)
    count = 5_882_513
    report: dict[str, Any] = {
        "dataset": "faces/lfw_dev",
        "watchlist_size": watchlist_size,
        "passers_by": passers_by,
        "false_alerts": false_alerts,
        "threshold": tail.threshold_for_size(watchlist_size),
        "threshold_ci95": [0.0, 1.0],
        "impostor_scores": {
            "count": count,
            "tail_fit": {
                "model": "generalised Pareto",
                "location": tail.location,
                "shape": tail.shape,
                "scale": tail.scale,
                "tail_scores": round(tail.rate * count),
            },
        },
        "model": {"model": SFACE_INT8BQ.model, "weights_sha256": SFACE_INT8BQ.weights_sha256, "dimension": 128},
    }
    if equity is not None:
        report["equity_range"] = {"attribute": "group", "low": equity[0], "high": equity[1], "dataset": "fixture"}
    return report


def plan(snapshot: str, **changes: object) -> DeploymentPlan:
    values: dict[str, object] = {
        "name": "High Street, Saturday",
        "use_case": "crime hotspot",
        "purpose": "locate people wanted on warrant for violent offences",
        "legal_basis": "common law policing powers; force LFR policy v3",
        "justification": "12 robberies in the area in 4 weeks; less intrusive means tried",
        "location": "High Street, outside the station",
        "planned_start": T0,
        "planned_end": T0 + timedelta(hours=4),
        "camera_ids": ("cam-1",),
        "snapshot": snapshot,
        "threshold": None,
        "latitude": 51.5,
        "longitude": -0.12,
        "signage_confirmed": True,
    }
    values.update(changes)
    return DeploymentPlan(**values)  # type: ignore[arg-type]


@dataclass
class FakeController:
    """A RecognitionController that records calls; ``fail`` makes start_recognition raise."""

    fail: bool = False
    running: dict[str, tuple[str, float, tuple[str, ...]]] = field(default_factory=dict)
    calls: list[str] = field(default_factory=list)
    counts: RunCounts | None = None

    def start_recognition(self, mandate: RecognitionMandate) -> None:
        deployment_id = mandate.deployment_id
        self.calls.append(f"start {deployment_id}")
        if self.fail:
            raise OpenLFRError("camera cam-1 is unreachable")
        cameras = tuple(c.camera_id for c in mandate.cameras)
        self.running[deployment_id] = (mandate.snapshot_id, mandate.threshold, cameras)

    def stop_recognition(self, deployment_id: str) -> None:
        self.calls.append(f"stop {deployment_id}")
        self.running.pop(deployment_id, None)

    def active_deployments(self) -> frozenset[str]:
        return frozenset(self.running)


@dataclass
class CountingController(FakeController):
    """Counts ``counts`` per run (counters from zero at each start); keeps the last run's after it stops."""

    stopped: dict[str, RunCounts] = field(default_factory=dict)

    def start_recognition(self, mandate: RecognitionMandate) -> None:
        super().start_recognition(mandate)
        self.stopped.pop(mandate.deployment_id, None)

    def stop_recognition(self, deployment_id: str) -> None:
        if deployment_id in self.running and self.counts is not None:
            self.stopped[deployment_id] = self.counts
        super().stop_recognition(deployment_id)

    def deployment_counts(self, deployment_id: str) -> RunCounts | None:
        if deployment_id in self.running:
            return self.counts
        return self.stopped.get(deployment_id)


ALERT_NOW = datetime(2026, 12, 31, 12, 0, tzinfo=UTC)


def alert_event(alert_id: str, age_days: float, now: datetime = ALERT_NOW) -> AlertEvent:
    """An alert decided ``age_days`` before ``now``, with small probe and context images."""
    decided = (now - timedelta(days=age_days)).timestamp()
    return AlertEvent(
        alert_id=alert_id,
        mode="production",
        source="cam1",
        track_id=1,
        subject_id="0" * 32,
        score=0.6,
        second_score=None,
        evidence=3,
        threshold=SFACE_INT8BQ.threshold,
        frame_index=1,
        frame_time_s=0.04,
        frame_wall_time=decided,
        decided_at=decided,
        latency_ms=50.0,
        model="fake",
        reference_image="1" * 32,
        probe_jpeg=b"\xff\xd8probe-" + alert_id.encode(),
        context_jpeg=b"\xff\xd8context-" + alert_id.encode(),
    )


def planner(session: Session) -> Principal:
    """An operator who plans and runs deployments."""
    return person(session, "planner", "operator")


def sgt(session: Session) -> Principal:
    """A supervisor who authorises them (not their creator)."""
    return person(session, "sgt", "supervisor")
