"""The recognition supervisor of ``lfr serve`` in cluster mode: live deployments' cameras run on the worker
pool (``openlfr.cluster.pool``) instead of threads of this process. The same seams as the single-machine
``openlfr.service.supervisor.RecognitionSupervisor``: ``RecognitionController``, ``GalleryRefresher``,
``DeploymentCounter`` and what the camera monitor reads (``runs``, ``deployment_of``, ``latest_frame``, ``wall``).

Alerts: a thread takes the alerts the workers handed to the inbox, persists each with insert-if-absent (its id
is the idempotency key: an alert taken again after a crash is not stored twice, nor pushed twice), then pushes
it to the console's bus, then acks it. The database's check that the subject still exists applies as for a
local pipeline (``DbAlertStore(check_subjects=True)``).

Erasure: the supervisor listens for erasures in this process (``openlfr.watchlists.erase``) and, before the
erasure returns, makes the inbox refuse and drop the subject's alerts and every worker forget the subject,
waiting for each acknowledgement. An erasure made by another process (``lfr subject erase``) is caught up with
at the scheduler's next tick (``refresh_galleries``) the same way; its alerts are refused by the database
meanwhile. Ending: ``stop_recognition`` revokes the lease and waits for every worker to
stop, then persists what the workers handed over before they stopped.

The live camera wall and the blurred preview show nothing in cluster mode: frames stay on the worker machines.
Shutting ``lfr serve`` down detaches (``detach``): the workers keep running and the inbox keeps their alerts
until the control plane is back and reattaches to them by name.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime

from prometheus_client.core import GaugeMetricFamily, Metric

from openlfr.alerts.db_store import DbAlertStore
from openlfr.alerts.dispatch import AlertDispatcher
from openlfr.alerts.sinks import AlertBus
from openlfr.cluster.pool import ClusterError, WorkerPool
from openlfr.cluster.types import (
    CameraReport,
    ClusterStatus,
    DeploymentPlan,
    InboxAlert,
    SnapshotPayload,
    WorkerConfig,
    deployment_status,
)
from openlfr.config.models import Settings
from openlfr.deployments.types import RunCounts
from openlfr.errors import OpenLFRError
from openlfr.service.supervisor import (
    DeploymentRun,
    bus_dispatcher,
    erasures_since,
    load_snapshot,
    snapshot_erasures,
)
from openlfr.service.wall import CameraWall
from openlfr.sources.mandate import RecognitionMandate
from openlfr.store.db import Database
from openlfr.store.errors import ConflictError
from openlfr.store.media import MediaStore
from openlfr.types import Frame
from openlfr.utc import utcnow
from openlfr.watchlists.erase import on_erasure

log = logging.getLogger(__name__)

_TAKE_WAIT_S = 1.0


@dataclass(slots=True)
class _Placed:
    mandate: RecognitionMandate
    offset: RunCounts
    """what the workers had counted when this control plane attached to them (reattached after a restart:
    the scheduler stored those figures before)"""
    subject_ids: frozenset[str]
    """the subjects the workers search for (the snapshot as placed, less erasures heard of since)"""
    erasures: int
    """the snapshot's erasure count when it was placed or last caught up with"""


class ClusterSupervisor:
    """Implements ``RecognitionController``, ``GalleryRefresher``, ``DeploymentCounter`` and ``Detachable``."""

    def __init__(
        self,
        settings: Settings,
        db: Database,
        media: MediaStore,
        bus: AlertBus,
        pool: WorkerPool,
        *,
        realtime_files: bool = True,
        clock: Callable[[], datetime] = utcnow,
        take_in_background: bool = True,
    ) -> None:
        """``take_in_background``: a thread takes and persists the workers' alerts as they arrive; False (unit
        tests): only ``persist_pending`` does."""
        self.settings = settings
        self.db = db
        self.media = media
        self.bus = bus
        self.pool = pool
        self.realtime_files = realtime_files
        self.clock = clock
        self.wall = CameraWall()
        """stays empty: frames never leave the worker machines"""
        self._placed: dict[str, _Placed] = {}
        self._stopped_counts: dict[str, RunCounts] = {}
        self._reports: dict[str, tuple[CameraReport, ...]] = {}
        self._dispatchers: dict[str, AlertDispatcher] = {}
        self._lock = threading.RLock()
        self._persist_lock = threading.Lock()
        self._stop = threading.Event()
        self._stop_listening = on_erasure(self.forget_subject)
        self._thread = threading.Thread(target=self._take_loop, name="cluster-alerts", daemon=True)
        if take_in_background:
            self._thread.start()

    # -- RecognitionController ------------------------------------------------------------------------------

    def start_recognition(self, mandate: RecognitionMandate) -> None:
        deployment_id = mandate.deployment_id
        if not mandate.cameras:
            raise ConflictError("a deployment needs at least one camera")
        with self._lock:
            if deployment_id in self._placed:
                raise ConflictError(f"recognition for deployment {deployment_id} is running already")
        with self.db.session() as session:
            erasures = snapshot_erasures(session, mandate.snapshot_id)
            snapshot = load_snapshot(session, mandate.snapshot_id)
        config = WorkerConfig(
            self.settings.engine,
            self.settings.sources,
            self.settings.pipeline.model_copy(update={"threshold": mandate.threshold}),
            self.realtime_files,
        )
        self.pool.place(DeploymentPlan(mandate, SnapshotPayload.of(snapshot), config))
        offset = _counts(self._deployment_reports(deployment_id))
        with self._lock:
            self._placed[deployment_id] = _Placed(mandate, offset, frozenset(snapshot.subject_ids), erasures)
            self._stopped_counts.pop(deployment_id, None)
        log.info("recognition placed on the cluster: deployment %s, %d camera(s)", deployment_id, len(mandate.cameras))

    def stop_recognition(self, deployment_id: str) -> None:
        with self._lock:
            placed = self._placed.get(deployment_id)
        if placed is None:
            return
        final = {r.camera_id: r for r in self.pool.stop(deployment_id)}  # each acknowledged, or was removed
        self.persist_pending()  # what the workers handed over before they stopped
        with self._lock:
            # A worker that did not answer its stop: its last report stands.
            last = {r.camera_id: r for r in self._reports.pop(deployment_id, ())}
            reports = tuple((last | {k: v for k, v in final.items() if v.status is not None}).values())
            self._placed.pop(deployment_id, None)
            self._stopped_counts[deployment_id] = _counts(reports).since(placed.offset)
        log.info("recognition stopped on the cluster: deployment %s", deployment_id)

    def active_deployments(self) -> frozenset[str]:
        with self._lock:
            return frozenset(self._placed)

    def stop_all(self) -> None:
        """Stop taking alerts and disconnect (``lfr serve`` stopping); the workers keep running."""
        self._stop.set()
        self._stop_listening()
        if self._thread.is_alive():
            self._thread.join(_TAKE_WAIT_S * 30)
        self.pool.close()

    # -- Detachable -----------------------------------------------------------------------------------------

    def detach(self) -> None:
        """The service stops but the deployments stay live: forget them here, leave the workers running."""
        with self._lock:
            self._placed.clear()

    # -- erasure --------------------------------------------------------------------------------------------

    def forget_subject(self, subject_id: str) -> None:
        """Before the erasure returns: this process drops the subject's alerts, the inbox refuses and drops
        them, and every worker forgets the subject (each acknowledged)."""
        with self._lock:
            dispatchers = list(self._dispatchers.values())
        for dispatcher in dispatchers:
            dispatcher.forget([subject_id])
        self.pool.forget_subject(subject_id)

    def refresh_galleries(self) -> None:
        """Catch up with erasures made by another process (each scheduler tick): a placed deployment whose
        snapshot lost subjects since it was placed has them forgotten as an erasure in this process would
        (the inbox refuses and drops their alerts, the head's leases lose their templates, every worker forgets
        them, each acknowledged). Meanwhile this process's alert store refuses their alerts."""
        with self._lock:
            placed = list(self._placed.values())
        for run in placed:
            caught = erasures_since(self.db, run.mandate.snapshot_id, run.erasures)
            if caught is None:
                continue
            try:
                for subject_id in sorted(run.subject_ids - caught.present):
                    self.forget_subject(subject_id)
            except ClusterError:  # a worker did not acknowledge: the next tick tries again
                log.exception("deployment %s: an erasure did not reach every worker", run.mandate.deployment_id)
                continue
            run.subject_ids = run.subject_ids & caught.present
            run.erasures = caught.erasures

    # -- alerts ---------------------------------------------------------------------------------------------

    def _take_loop(self) -> None:
        while not self._stop.is_set():
            try:
                self._persist(self.pool.take_alerts(_TAKE_WAIT_S))
            except Exception:  # the loop must outlive a database or network hiccup: the inbox keeps the alerts
                log.exception("taking alerts from the cluster failed")
                self._stop.wait(_TAKE_WAIT_S)

    def persist_pending(self) -> int:
        """Persist whatever waits in the inbox now; returns how many alerts it acked."""
        return self._persist(self.pool.take_alerts(0.0))

    def _persist(self, alerts: tuple[InboxAlert, ...]) -> int:
        if not alerts:
            return 0
        done: list[str] = []
        with self._persist_lock:
            for alert in alerts:
                dispatcher = self._dispatcher(alert.deployment_id)
                store = dispatcher.store
                assert isinstance(store, DbAlertStore)
                if not store.contains(alert.event.alert_id):  # insert-if-absent: taken again after a crash
                    dispatcher.publish(alert.event)  # stored, then pushed; None when its subject was erased
                done.append(alert.event.alert_id)
            self.pool.ack(tuple(done))
        return len(done)

    def _dispatcher(self, deployment_id: str) -> AlertDispatcher:
        with self._lock:
            dispatcher = self._dispatchers.get(deployment_id)
            if dispatcher is None:
                dispatcher = self._dispatchers[deployment_id] = bus_dispatcher(
                    self.db, self.media, self.bus, deployment_id
                )
            return dispatcher

    # -- DeploymentCounter ----------------------------------------------------------------------------------

    def deployment_counts(self, deployment_id: str) -> RunCounts | None:
        with self._lock:
            placed = self._placed.get(deployment_id)
            if placed is None:
                return self._stopped_counts.get(deployment_id)
        return _counts(self._deployment_reports(deployment_id)).since(placed.offset)

    # -- what the camera monitor reads ----------------------------------------------------------------------

    def cluster_status(self) -> ClusterStatus:
        return self.pool.status()

    def collect(self) -> Iterable[Metric]:
        """The cluster's series of /metrics (a prometheus_client collector; the cameras' own series come from the
        camera monitor, as in single-machine mode)."""
        try:
            status = self.pool.status()
        except OpenLFRError:
            log.exception("the cluster did not report for /metrics")
            return
        yield GaugeMetricFamily(
            "openlfr_cluster_nodes_alive", "Ray nodes alive in the cluster", value=sum(n.alive for n in status.nodes)
        )
        cameras = GaugeMetricFamily("openlfr_cluster_cameras", "cameras running on each node", labels=["node"])
        capacity = GaugeMetricFamily(
            "openlfr_cluster_camera_capacity", "camera units each node offers", labels=["node"]
        )
        for node in status.nodes:
            cameras.add_metric([node.node_id], len(status.cameras_on(node.node_id)))
            capacity.add_metric([node.node_id], node.cameras_capacity)
        restarts = GaugeMetricFamily(
            "openlfr_cluster_camera_restarts",
            "whether a camera's worker was restarted (on another node) since it was placed",
            labels=["deployment", "camera"],
        )
        for camera in status.cameras:
            restarts.add_metric([camera.deployment_id, camera.camera_id], camera.restarts)
        yield from (cameras, capacity, restarts)

    def _deployment_reports(self, deployment_id: str) -> tuple[CameraReport, ...]:
        try:
            reports = tuple(c for c in self.pool.status().cameras if c.deployment_id == deployment_id)
        except OpenLFRError:
            log.exception("the cluster did not report on deployment %s", deployment_id)
            with self._lock:
                return self._reports.get(deployment_id, ())
        with self._lock:
            # A worker being restarted reports nothing: keep its last report so counts never go backwards.
            previous = {r.camera_id: r for r in self._reports.get(deployment_id, ())}
            merged = tuple(r if r.status is not None else previous.get(r.camera_id, r) for r in reports)
            self._reports[deployment_id] = merged
        return merged

    def runs(self) -> tuple[DeploymentRun, ...]:
        with self._lock:
            placed = dict(self._placed)
        out = []
        for deployment_id in sorted(placed):
            reports = list(self._deployment_reports(deployment_id))
            cameras = tuple((g.camera_id, g.name) for g in placed[deployment_id].mandate.cameras)
            failed = [r for r in reports if r.state == "failed"]
            state = (
                "failed" if failed else ("ended" if reports and all(r.state == "ended" for r in reports) else "running")
            )
            error = failed[0].error if failed else None
            out.append(DeploymentRun(deployment_id, cameras, deployment_status(reports), state, error))
        return tuple(out)

    def run_of(self, deployment_id: str) -> DeploymentRun | None:
        return next((r for r in self.runs() if r.deployment_id == deployment_id), None)

    def deployment_of(self, camera_id: str) -> str | None:
        with self._lock:
            return next(
                (d for d, p in self._placed.items() if any(g.camera_id == camera_id for g in p.mandate.cameras)), None
            )

    def latest_frame(self, camera_id: str) -> Frame | None:
        """Frames stay on the worker machines: no preview in cluster mode."""
        return None


def _counts(reports: tuple[CameraReport, ...] | list[CameraReport]) -> RunCounts:
    statuses = [r.status for r in reports if r.status is not None]
    return RunCounts(
        sum(s.frames for s in statuses),
        sum(s.faces for s in statuses),
        sum(s.tracks for s in statuses),
        sum(s.tracks_unexamined for s in statuses),
    )


def open_pool(settings: Settings) -> WorkerPool:
    """The Ray pool of the ``cluster`` settings (imports Ray: only called in cluster mode)."""
    if settings.cluster is None:
        raise ClusterError("no `cluster` section in the settings")
    from openlfr.cluster.node import prepare_driver

    prepare_driver(settings.data_dir, settings.cluster)  # before Ray is imported: it reads them then
    from openlfr.cluster.ray_pool import RayWorkerPool

    return RayWorkerPool(settings.cluster, settings.data_dir)
