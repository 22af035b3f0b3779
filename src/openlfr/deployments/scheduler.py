"""The deployment scheduler inside ``lfr serve``: recognition runs only for a live, authorised deployment
inside its planned window, and stops by itself at the planned end.

Every ``tick`` compares what should run (live, authorised, now in [planned_start, planned_end)) with what the
``RecognitionController`` reports running, and starts (with the mandate ``issue_mandate`` gives the
deployment) or stops the difference. A live deployment whose end
has passed is ended (``system:scheduler`` in the audit chain), which destroys its copy of the templates. A
deployment whose recognition fails to start is recorded once (``deployment.start_failed``) and retried on
later ticks; so is one with no signage placement on record (``openlfr.deployments.notice``). A draft or
authorised deployment whose planned end passed is cancelled (its templates destroyed).
What the pipeline counts (frames, face detections, tracks = faces seen; ``DeploymentCounter``) is added to
the deployment's stored figures on every tick while it runs and once more when it stops: counts survive a
restart of the service (the new run's counts are added to the old) and a crash loses at most one interval.
The counts include the passers-by the pipeline had to leave unexamined (``tracks_unexamined``).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol, runtime_checkable

from sqlalchemy import select

from openlfr.audit import append_audit
from openlfr.auth.principal import Principal
from openlfr.deployments.figures import add_counts, get_counts
from openlfr.deployments.mandate import issue_mandate
from openlfr.deployments.notice import SignageNotPlacedError, signed_deployments
from openlfr.deployments.service import cancel_deployment, end_deployment, in_window, is_authorised
from openlfr.deployments.types import NO_COUNTS, DeploymentStateError, RunCounts
from openlfr.errors import OpenLFRError
from openlfr.service.controller import Detachable, GalleryRefresher, RecognitionController
from openlfr.sources.redact import redact
from openlfr.store.db import Database
from openlfr.store.governance_models import Deployment
from openlfr.utc import as_utc, utcnow

log = logging.getLogger(__name__)

SCHEDULER = Principal.system("scheduler")
ACTOR = SCHEDULER.actor


@runtime_checkable
class DeploymentCounter(Protocol):
    """A controller that can say what a deployment's pipeline has counted so far in its current run (counters
    start at zero with each start), and, once stopped, what its last run counted in all."""

    def deployment_counts(self, deployment_id: str) -> RunCounts | None: ...


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
    _counted: dict[str, RunCounts] = field(default_factory=dict)
    """per running deployment: its run's counters as last added to the stored figures"""
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
            plans = set(wanted)
            signed = signed_deployments(session, plans)
        running = self.controller.active_deployments()
        for deployment_id in sorted(running & plans):
            self._store_counts(deployment_id, now)
        for deployment_id in sorted(running - plans):
            self._stop_one(deployment_id, now)
            stopped.append(deployment_id)
        if isinstance(self.controller, GalleryRefresher):
            self.controller.refresh_galleries()  # erasures made by another process
        for deployment_id in sorted(plans - running):
            try:
                if deployment_id not in signed:  # e.g. live from before placements were recorded
                    raise SignageNotPlacedError(f"no signs are recorded as put up for deployment {deployment_id}")
                with self.db.session() as session:
                    mandate = issue_mandate(session, deployment_id, now=now)
                self.controller.start_recognition(mandate)
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
            self._counted[deployment_id] = NO_COUNTS  # a new run counts from zero
            started.append(deployment_id)
            with self.db.session() as session:
                append_audit(
                    session,
                    actor=ACTOR,
                    action="deployment.recognition_started",
                    target_type="deployment",
                    target_id=deployment_id,
                    details={
                        "threshold": mandate.threshold,
                        "camera_ids": [c.camera_id for c in mandate.cameras],
                        "sources": [redact(c.source) for c in mandate.cameras],
                        "snapshot_fingerprint": mandate.snapshot_fingerprint,
                        "revision": mandate.revision,
                    },
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
        self.controller.stop_recognition(deployment_id)
        added = self._store_counts(deployment_id, now, final=True)
        with self.db.session() as session:
            total = get_counts(session, deployment_id)
            append_audit(
                session,
                actor=ACTOR,
                action="deployment.recognition_stopped",
                target_type="deployment",
                target_id=deployment_id,
                details={
                    "run": {"frames": added.frames, "detections": added.detections, "faces_seen": added.tracks},
                    "faces_seen": total.tracks if total is not None else 0,
                    "tracks_unexamined": total.tracks_unexamined if total is not None else 0,
                },
            )

    def _store_counts(self, deployment_id: str, now: datetime, *, final: bool = False) -> RunCounts:
        """Add what the run counted since the last call to the stored figures; returns the run's total."""
        reading = (
            self.controller.deployment_counts(deployment_id) if isinstance(self.controller, DeploymentCounter) else None
        )
        baseline = self._counted.pop(deployment_id, NO_COUNTS) if final else self._counted.get(deployment_id, NO_COUNTS)
        if reading is None:
            return baseline
        delta = reading.since(baseline)
        if delta != NO_COUNTS:
            with self.db.session() as session:
                add_counts(session, deployment_id, delta, now)
        if not final:
            self._counted[deployment_id] = reading
        return reading

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
        resumes them if still inside their window). A ``Detachable`` controller (cluster mode) is detached
        instead: its workers keep running, and the restarted service reattaches to them."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(30)
        now = self.clock()
        if isinstance(self.controller, Detachable):
            # Cluster mode: the workers keep running; what they counted so far is stored, the rest is theirs.
            for deployment_id in sorted(self.controller.active_deployments()):
                self._store_counts(deployment_id, now)
            self.controller.detach()
            return
        for deployment_id in sorted(self.controller.active_deployments()):
            self._stop_one(deployment_id, now)
