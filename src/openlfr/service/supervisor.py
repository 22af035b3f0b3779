"""The recognition supervisor: inside ``lfr serve``, one ``WatchPipeline`` per live deployment, on its own
thread, over the deployment's cameras. The deployment scheduler starts it with the deployment's
``RecognitionMandate`` and stops it (``RecognitionController``), and reads what it counted
(``DeploymentCounter``: the pipeline's status while it runs, its ``RunSummary`` once it stopped).

Alerts go to the database (``DbAlertStore``, ``mode="production"``, with the deployment id) and then to the
in-process bus that feeds the console's live stream.

Erasure: every running pipeline listens for erasures in this process (``openlfr.watchlists.erase``) and
forgets the subject before the erasure returns; ``refresh_galleries`` (each scheduler tick) catches up with
erasures made by another process, whose alerts the alert store refuses meanwhile.

What it says about a run goes through the pipeline's public status (``openlfr.pipeline.status``) and the
frozen ``DeploymentRun`` records here; the newest frame of each camera is kept in memory only (``TapSource``)
for the blurred preview, never written anywhere.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from openlfr.alerts.db_store import DbAlertStore
from openlfr.alerts.dispatch import AlertDispatcher
from openlfr.alerts.sinks import AlertBus, Record
from openlfr.config.models import Settings
from openlfr.deployments.types import RunCounts
from openlfr.engine import FaceEngine
from openlfr.pipeline.app import RunSummary, WatchPipeline, pipeline_settings
from openlfr.pipeline.config import PipelineConfig
from openlfr.pipeline.gallery import WatchlistSnapshot, build_snapshot
from openlfr.pipeline.status import PipelineStatus
from openlfr.service.wall import CameraWall
from openlfr.sources.base import FrameSource, SourceHealth
from openlfr.sources.factory import open_source
from openlfr.sources.mandate import RecognitionMandate, utcnow
from openlfr.store.db import Database
from openlfr.store.errors import ConflictError
from openlfr.store.media import MediaStore
from openlfr.store.models import Snapshot, SnapshotTemplate, Template
from openlfr.types import Frame
from openlfr.watchlists.erase import on_erasure
from openlfr.watchlists.snapshots import snapshot_templates

log = logging.getLogger(__name__)

_JOIN_TIMEOUT_S = 15.0


@dataclass(frozen=True, slots=True)
class DeploymentRun:
    """One deployment's recognition in this process, as its supervisor reports it."""

    deployment_id: str
    cameras: tuple[tuple[str, str], ...]
    """(camera id, camera name = the pipeline's source id), in the mandate's order"""
    status: PipelineStatus
    state: str
    """running; ended (every source reached its end); failed (see ``error``)"""
    error: str | None

    def camera_name(self, camera_id: str) -> str | None:
        return next((name for cid, name in self.cameras if cid == camera_id), None)


class RecognitionView(Protocol):
    """What the camera monitor and the camera wall read of a supervisor: this module's, or the cluster's
    (``openlfr.cluster.supervisor``)."""

    wall: CameraWall

    def deployment_of(self, camera_id: str) -> str | None: ...

    def runs(self) -> tuple[DeploymentRun, ...]: ...

    def latest_frame(self, camera_id: str) -> Frame | None: ...


class TapSource:
    """A ``FrameSource`` that remembers its newest frame (in memory) for the blurred preview."""

    def __init__(self, inner: FrameSource) -> None:
        self.inner = inner
        self._latest: Frame | None = None
        self._lock = threading.Lock()

    @property
    def source_id(self) -> str:
        return self.inner.source_id

    @property
    def live(self) -> bool:
        return self.inner.live

    def frames(self) -> Iterator[Frame]:
        try:
            for frame in self.inner.frames():
                with self._lock:
                    self._latest = frame
                yield frame
        finally:
            with self._lock:
                self._latest = None

    def latest(self) -> Frame | None:
        with self._lock:
            return self._latest

    def close(self) -> None:
        self.inner.close()
        with self._lock:
            self._latest = None

    def health(self) -> SourceHealth:
        return self.inner.health()


class _BusForwarder:
    """Hands stored alert records to the shared bus; closing a pipeline must not close the bus."""

    name = "bus"

    def __init__(self, bus: AlertBus) -> None:
        self._bus = bus

    def push(self, record: Record) -> None:
        self._bus.push(record)

    def close(self) -> None:
        return None


@dataclass(slots=True)
class _Run:
    deployment_id: str
    snapshot_id: str
    cameras: dict[str, str]
    """camera id → name (the pipeline's source id)"""
    pipeline: WatchPipeline
    taps: dict[str, TapSource]
    """camera id → its source"""
    erasures: int = 0
    """the snapshot's erasure count when its gallery was (re)loaded"""
    stop: threading.Event = field(default_factory=threading.Event)
    thread: threading.Thread | None = None
    summary: RunSummary | None = None
    """set by the run's thread when the pipeline returns: what the run counted in all"""
    error: str | None = None
    stop_listening: Callable[[], None] | None = None

    def state(self) -> str:
        if self.error is not None:
            return "failed"
        if self.thread is not None and not self.thread.is_alive():
            return "ended"  # every source of the deployment reached its end
        return "running"

    def report(self) -> DeploymentRun:
        return DeploymentRun(
            self.deployment_id, tuple(self.cameras.items()), self.pipeline.status(), self.state(), self.error
        )

    def counts(self) -> RunCounts:
        """The run's counters: its summary once the pipeline returned (the final word, after every waiting
        face was embedded or given up), else the pipeline's current status."""
        summary = self.summary
        if summary is not None:
            return RunCounts(summary.frames, summary.faces, summary.tracks, summary.tracks_unexamined)
        status = self.pipeline.status()
        return RunCounts(status.frames, status.faces, status.tracks, status.tracks_unexamined)


def load_snapshot(session: Session, snapshot_id: str) -> WatchlistSnapshot:
    """A stored snapshot as the pipeline's searchable watchlist; references are ``reference_image`` ids."""
    matrix, subject_ids, contract = snapshot_templates(session, snapshot_id)
    if not subject_ids:
        raise ConflictError(f"snapshot {snapshot_id} holds no templates (erased, or every subject excluded)")
    # snapshot_templates orders the rows by template digest: the same order here.
    digests = list(
        session.scalars(
            select(SnapshotTemplate.template_digest)
            .where(SnapshotTemplate.snapshot_id == snapshot_id)
            .order_by(SnapshotTemplate.template_digest)
        )
    )
    image_of: dict[str, str] = {
        digest: image_id
        for digest, image_id in session.execute(
            select(Template.digest, Template.image_id).where(Template.digest.in_(set(digests)))
        )
    }
    references = [image_of.get(d, "") for d in digests]
    return build_snapshot(snapshot_id, matrix, subject_ids, references, contract)


def snapshot_erasures(session: Session, snapshot_id: str) -> int:
    """How many subjects were erased from the snapshot since it was taken (grows with each erasure)."""
    snapshot = session.get(Snapshot, snapshot_id)
    return int(snapshot.erasures or 0) if snapshot is not None else 0


@dataclass(frozen=True, slots=True)
class ErasureCatchUp:
    erasures: int
    """the snapshot's erasure count now"""
    present: frozenset[str]
    """the subjects the snapshot still holds"""


def erasures_since(db: Database, snapshot_id: str, seen: int) -> ErasureCatchUp | None:
    """What a running deployment must catch up with when another process erased subjects from its snapshot
    since it saw ``seen`` erasures; None when nothing was erased since."""
    with db.session() as session:
        erasures = snapshot_erasures(session, snapshot_id)
        if erasures == seen:
            return None
        present = select(SnapshotTemplate.subject_id).where(SnapshotTemplate.snapshot_id == snapshot_id)
        return ErasureCatchUp(erasures, frozenset(session.scalars(present)))


def bus_dispatcher(db: Database, media: MediaStore, bus: AlertBus, deployment_id: str) -> AlertDispatcher:
    """A deployment's alerts: stored (refused once their subject is erased), then handed to the console's bus."""
    store = DbAlertStore(db, media, deployment_id=deployment_id, check_subjects=True)
    return AlertDispatcher(store, [_BusForwarder(bus)])


def _default_engine_factory(settings: Settings) -> Callable[[], FaceEngine]:
    def factory() -> FaceEngine:
        return FaceEngine.from_settings(pipeline_settings(settings))

    return factory


class RecognitionSupervisor:
    """Implements ``RecognitionController``, ``GalleryRefresher`` (openlfr.service.controller) and
    ``DeploymentCounter`` (openlfr.deployments.scheduler)."""

    def __init__(
        self,
        settings: Settings,
        db: Database,
        media: MediaStore,
        bus: AlertBus,
        *,
        engine_factory: Callable[[], FaceEngine] | None = None,
        pipeline_config: PipelineConfig | None = None,
        realtime_files: bool = True,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        """``pipeline_config``: default the ``pipeline`` section of the settings (the mandate's threshold
        always wins). ``clock``: the time the deployments' mandates are checked against (the scheduler's)."""
        self.settings = settings
        self.db = db
        self.media = media
        self.bus = bus
        self.engine_factory = engine_factory or _default_engine_factory(settings)
        self.pipeline_config = pipeline_config or settings.pipeline
        self.realtime_files = realtime_files
        self.clock = clock
        self._runs: dict[str, _Run] = {}
        self._stopped_counts: dict[str, RunCounts] = {}
        """per deployment: what its last run counted in all, until it starts again"""
        self._lock = threading.RLock()
        self.wall = CameraWall()
        """the live camera wall's frames, in memory only (openlfr.service.wall)"""

    # -- RecognitionController ----------------------------------------------------------------------------

    def start_recognition(self, mandate: RecognitionMandate) -> None:
        """Run the deployment of ``mandate`` on its cameras, snapshot and threshold (it stops by itself at the
        mandate's end). Raises when it cannot start; nothing keeps running then."""
        deployment_id = mandate.deployment_id
        if not mandate.cameras:
            raise ConflictError("a deployment needs at least one camera")
        if len({c.camera_id for c in mandate.cameras}) != len(mandate.cameras):
            raise ConflictError("a camera is listed twice")
        with self._lock:
            if deployment_id in self._runs:
                raise ConflictError(f"recognition for deployment {deployment_id} is running already")
            for grant in mandate.cameras:
                other = self.deployment_of(grant.camera_id)
                if other is not None:
                    raise ConflictError(f"camera {grant.camera_id} is in use by deployment {other}")
            with self.db.session() as session:
                snapshot = load_snapshot(session, mandate.snapshot_id)
                erasures = snapshot_erasures(session, mandate.snapshot_id)
            run = self._build(mandate, snapshot, erasures)
            run.stop_listening = on_erasure(run.pipeline.forget_subject)
            run.thread = threading.Thread(
                target=self._run, args=(run,), name=f"deployment-{deployment_id}", daemon=True
            )
            self._runs[deployment_id] = run
            self._stopped_counts.pop(deployment_id, None)
            run.thread.start()
        log.info(
            "recognition started: deployment %s, %d camera(s), threshold %.3f",
            deployment_id,
            len(run.cameras),
            mandate.threshold,
        )

    def _build(self, mandate: RecognitionMandate, snapshot: WatchlistSnapshot, erasures: int) -> _Run:
        engine = self.engine_factory()
        taps: dict[str, TapSource] = {}
        now = self.clock()
        try:
            for grant in mandate.cameras:
                taps[grant.camera_id] = TapSource(
                    open_source(
                        grant.source,
                        source_id=grant.name,
                        realtime=self.realtime_files,
                        loop=grant.loop,
                        config=self.settings.sources,
                        mandate=mandate,
                        now=now,
                    )
                )
            config = self.pipeline_config.model_copy(update={"threshold": mandate.threshold})
            dispatcher = bus_dispatcher(self.db, self.media, self.bus, mandate.deployment_id)
            pipeline = WatchPipeline(
                engine,
                snapshot,
                list(taps.values()),
                dispatcher,
                config,
                mode="production",
                mandate=mandate,
                clock=self.clock,
                views=self.wall.publish,
            )
        except BaseException:
            for tap in taps.values():
                tap.close()
            raise
        cameras = {grant.camera_id: grant.name for grant in mandate.cameras}
        for grant in mandate.cameras:
            self.wall.open(grant.name, grant.zone)
        return _Run(mandate.deployment_id, mandate.snapshot_id, cameras, pipeline, taps, erasures)

    def _run(self, run: _Run) -> None:
        try:
            summary = run.pipeline.run(run.stop)
            if summary.halted == "watchlist_empty":
                run.error = "every subject of the watchlist was erased: nothing is left to search"
            run.summary = summary
        except Exception as exc:  # the pipeline thread must not die silently
            log.exception("recognition for deployment %s failed", run.deployment_id)
            run.error = str(exc) or type(exc).__name__

    def stop_recognition(self, deployment_id: str) -> None:
        with self._lock:
            run = self._runs.pop(deployment_id, None)
        if run is None:
            return
        if run.stop_listening is not None:
            run.stop_listening()
        run.stop.set()
        if run.thread is not None:
            run.thread.join(_JOIN_TIMEOUT_S)
            if run.thread.is_alive():
                log.error("recognition for deployment %s did not stop within %.0f s", deployment_id, _JOIN_TIMEOUT_S)
        for name in run.cameras.values():
            self.wall.close(name)
        with self._lock:
            self._stopped_counts[deployment_id] = run.counts()
        log.info("recognition stopped: deployment %s", deployment_id)

    def active_deployments(self) -> frozenset[str]:
        with self._lock:
            return frozenset(self._runs)

    def stop_all(self) -> None:
        for deployment_id in sorted(self.active_deployments()):
            self.stop_recognition(deployment_id)

    # -- GalleryRefresher ---------------------------------------------------------------------------------

    def refresh_galleries(self) -> None:
        """Catch up with erasures made by another process: a running deployment whose snapshot lost subjects
        since its gallery was loaded forgets them (its alert store has been refusing their alerts)."""
        with self._lock:
            runs = list(self._runs.values())
        for run in runs:
            caught = erasures_since(self.db, run.snapshot_id, run.erasures)
            if caught is None:
                continue
            for subject_id in sorted(run.pipeline.searched_subjects() - caught.present):
                run.pipeline.forget_subject(subject_id)
            run.erasures = caught.erasures

    # -- DeploymentCounter --------------------------------------------------------------------------------

    def deployment_counts(self, deployment_id: str) -> RunCounts | None:
        """What the deployment's current run has counted (frames, face detections, tracks = faces seen), or
        its last run's total once stopped (from the run's ``RunSummary``); None when it never ran here."""
        with self._lock:
            run = self._runs.get(deployment_id)
            if run is None:
                return self._stopped_counts.get(deployment_id)
        return run.counts()

    # -- what the health and preview read -----------------------------------------------------------------

    def run_finished(self, deployment_id: str) -> bool:
        """Whether the deployment's pipeline thread has ended (its file sources ended, or it failed)."""
        with self._lock:
            run = self._runs.get(deployment_id)
        return run is None or run.thread is None or not run.thread.is_alive()

    def deployment_of(self, camera_id: str) -> str | None:
        """The deployment whose recognition reads the camera in this process, if any."""
        with self._lock:
            return next((d for d, run in self._runs.items() if camera_id in run.cameras), None)

    def runs(self) -> tuple[DeploymentRun, ...]:
        """Every running deployment's status, by deployment id."""
        with self._lock:
            runs = sorted(self._runs.values(), key=lambda r: r.deployment_id)
        return tuple(run.report() for run in runs)

    def run_of(self, deployment_id: str) -> DeploymentRun | None:
        with self._lock:
            run = self._runs.get(deployment_id)
        return run.report() if run is not None else None

    def latest_frame(self, camera_id: str) -> Frame | None:
        """The camera's newest frame, in memory (for the blurred preview only); None when it is not running."""
        with self._lock:
            run = next((r for r in self._runs.values() if camera_id in r.cameras), None)
        return run.taps[camera_id].latest() if run is not None else None
