"""The deployment scheduler inside ``lfr serve``: recognition runs only for a live, authorised deployment
inside its planned window, and stops by itself at the planned end.

Every ``tick`` compares what should run (live, authorised, now in [planned_start, planned_end)) with what the
``RecognitionController`` reports running, and starts or stops the difference. A live deployment whose end
has passed is ended (``system:scheduler`` in the audit chain), which destroys its copy of the templates. A
deployment whose recognition fails to start is recorded once (``deployment.start_failed``) and retried on
later ticks. A draft or authorised deployment whose planned end passed is cancelled (its templates destroyed).
Before stopping, the pipeline's counts are stored: from ``deployment_counts`` when the controller has it
(``DeploymentCounter``: frames, faces, tracks), else from the camera manager's public health report (frames,
faces).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol, runtime_checkable

from sqlalchemy import select
from sqlalchemy.orm import Session

from openlfr.audit import append_audit
from openlfr.audit.chain import as_utc
from openlfr.auth.principal import Principal
from openlfr.deployments.service import (
    cancel_deployment,
    end_deployment,
    in_window,
    is_authorised,
    record_counts,
)
from openlfr.deployments.types import DeploymentStateError, RunCounts
from openlfr.errors import OpenLFRError
from openlfr.service.controller import RecognitionController
from openlfr.store.db import Database
from openlfr.store.governance_models import Deployment
from openlfr.store.models import utcnow

log = logging.getLogger(__name__)

SCHEDULER = Principal.system("scheduler")
ACTOR = SCHEDULER.actor


@runtime_checkable
class DeploymentCounter(Protocol):
    """Optional: a controller that can say what a running deployment's pipeline has counted so far."""

    def deployment_counts(self, deployment_id: str) -> RunCounts | None: ...


@runtime_checkable
class CameraHealthReporter(Protocol):
    """What ``openlfr.service.cameras.CameraManager`` offers publicly: per-camera health with frame and face
    counts of the deployment using it (kept until recognition stops, also after a file camera ended)."""

    def health(self, records: Iterable[Any]) -> Sequence[Any]: ...

    def list_cameras(self, session: Session) -> Sequence[Any]: ...


def counts_from_health(controller: CameraHealthReporter, db: Database, deployment_id: str) -> RunCounts | None:
    """Frames and faces summed over the deployment's cameras (the health report carries no track count)."""
    with db.session() as session:
        records = list(controller.list_cameras(session))
    mine = [h for h in controller.health(records) if getattr(h, "deployment_id", None) == deployment_id]
    if not mine:
        return None
    return RunCounts(frames=sum(int(h.frames) for h in mine), faces=sum(int(h.faces) for h in mine), tracks=None)


@dataclass(frozen=True, slots=True)
class TickResult:
    started: tuple[str, ...] = ()
    stopped: tuple[str, ...] = ()
    ended: tuple[str, ...] = ()
    """ended at their planned end, or cancelled because it passed before they went live"""
    failed: tuple[str, ...] = ()


@dataclass
class DeploymentScheduler:
    db: Database
    controller: RecognitionController
    interval_s: float = 5.0
    clock: Callable[[], datetime] = utcnow
    _failed: set[str] = field(default_factory=set)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def tick(self) -> TickResult:
        now = self.clock()
        started: list[str] = []
        stopped: list[str] = []
        ended: list[str] = []
        failed: list[str] = []
        with self.db.session() as session:
            live = list(session.scalars(select(Deployment).where(Deployment.status == "live")))
            wanted = {d.id: d for d in live if is_authorised(d) and in_window(d, now)}
            overdue = [d.id for d in live if d.id not in wanted and now >= as_utc(d.planned_end)]
            expired = list(
                session.scalars(
                    select(Deployment.id).where(
                        Deployment.status.in_(("draft", "authorised")), Deployment.planned_end <= now
                    )
                )
            )
            plans = {d.id: (d.snapshot_id, d.threshold, tuple(d.camera_ids)) for d in wanted.values()}
        running = self.controller.active_deployments()
        for deployment_id in sorted(running - set(plans)):
            self._stop_one(deployment_id, now)
            stopped.append(deployment_id)
        for deployment_id in sorted(set(plans) - running):
            snapshot_id, threshold, cameras = plans[deployment_id]
            try:
                self.controller.start_recognition(deployment_id, snapshot_id, threshold, cameras)
            except OpenLFRError as exc:
                failed.append(deployment_id)
                if deployment_id not in self._failed:
                    self._failed.add(deployment_id)
                    log.error("deployment %s: recognition did not start: %s", deployment_id, exc)
                    with self.db.session() as session:
                        append_audit(
                            session,
                            actor=ACTOR,
                            action="deployment.start_failed",
                            target_type="deployment",
                            target_id=deployment_id,
                            details={"error": exc.code, "message": str(exc)[:500]},
                        )
                continue
            self._failed.discard(deployment_id)
            started.append(deployment_id)
            with self.db.session() as session:
                append_audit(
                    session,
                    actor=ACTOR,
                    action="deployment.recognition_started",
                    target_type="deployment",
                    target_id=deployment_id,
                    details={"threshold": threshold, "camera_ids": list(cameras)},
                )
        for deployment_id in overdue:
            try:
                with self.db.session() as session:
                    end_deployment(session, deployment_id, by=SCHEDULER, reason="planned end reached", now=now)
            except DeploymentStateError:
                continue  # ended by someone else in the meantime
            ended.append(deployment_id)
            log.info("deployment %s ended at its planned end", deployment_id)
        for deployment_id in expired:
            # Never went live and can no longer: its copy of the watchlist must not linger.
            try:
                with self.db.session() as session:
                    cancel_deployment(
                        session, deployment_id, by=SCHEDULER, reason="planned end passed without going live", now=now
                    )
            except DeploymentStateError:
                continue
            ended.append(deployment_id)
        return TickResult(tuple(started), tuple(stopped), tuple(ended), tuple(failed))

    def _stop_one(self, deployment_id: str, now: datetime) -> None:
        counts = self._counts(deployment_id)
        self.controller.stop_recognition(deployment_id)
        counts = self._counts(deployment_id) or counts
        with self.db.session() as session:
            if counts is not None:
                record_counts(session, deployment_id, counts, now)
            append_audit(
                session,
                actor=ACTOR,
                action="deployment.recognition_stopped",
                target_type="deployment",
                target_id=deployment_id,
                details={"faces_seen": counts.faces if counts else None, "tracks": counts.tracks if counts else None},
            )

    def _counts(self, deployment_id: str) -> RunCounts | None:
        if isinstance(self.controller, DeploymentCounter):
            return self.controller.deployment_counts(deployment_id)
        if isinstance(self.controller, CameraHealthReporter):
            return counts_from_health(self.controller, self.db, deployment_id)
        return None

    # -- as a Lifecycle step of `lfr serve` ------------------------------------------------------------------

    def start(self) -> None:
        self.tick()  # a first pass before serving: a deployment live across a restart resumes at once
        self._stop.clear()
        self._thread = threading.Thread(target=self._loop, name="deployment-scheduler", daemon=True)
        self._thread.start()

    def _loop(self) -> None:
        while not self._stop.wait(self.interval_s):
            try:
                self.tick()
            except Exception:  # the scheduler must outlive one bad tick (a database hiccup)
                log.exception("deployment scheduler tick failed")

    def stop(self) -> None:
        """Stop checking, then stop every pipeline this service runs (the deployments stay live: a restart
        resumes them if still inside their window)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(30)
        now = self.clock()
        for deployment_id in sorted(self.controller.active_deployments()):
            self._stop_one(deployment_id, now)
