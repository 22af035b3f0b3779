"""``CameraManager``: the registered cameras, and the recognition pipelines that run on them inside ``lfr serve``.

One ``WatchPipeline`` per live deployment, on its own thread, over the deployment's cameras; it can be started
and stopped at any time (the deployment scheduler calls ``start_recognition`` with the deployment's
``RecognitionMandate``, and ``stop_recognition``). Its alerts go to the database (``DbAlertStore``,
``mode="production"``, with the deployment id) and then to the in-process bus that feeds the console's live
stream.

Erasure: every running pipeline listens for erasures in this process (``openlfr.watchlists.erase``) and
forgets the subject before the erasure returns; ``refresh_galleries`` (each scheduler tick) catches up with
erasures made by another process, whose alerts the alert store refuses meanwhile.

The live preview never leaves this module unblurred: ``preview_jpeg`` runs a detector of its own on the newest
frame and blanks every face it finds before encoding. Frames are held in memory only (the newest one per
camera), never written anywhere.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Literal

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily, Metric
from sqlalchemy import select
from sqlalchemy.orm import Session

from openlfr.alerts.db_store import DbAlertStore
from openlfr.alerts.dispatch import AlertDispatcher
from openlfr.alerts.sinks import AlertBus, Record
from openlfr.config.models import Settings
from openlfr.deployments.types import RunCounts
from openlfr.detect.base import FaceDetector, create_detector, detect_scaled
from openlfr.engine import FaceEngine
from openlfr.errors import OpenLFRError, SourceError
from openlfr.pipeline.alerting import blur_faces_except, encode_jpeg
from openlfr.pipeline.app import RunSummary, WatchPipeline, pipeline_settings
from openlfr.pipeline.camera import downscale
from openlfr.pipeline.config import PipelineConfig
from openlfr.pipeline.gallery import WatchlistSnapshot, build_snapshot
from openlfr.pipeline.latency import HistogramSnapshot
from openlfr.service.wall import CameraWall
from openlfr.sources.base import FrameSource, SourceHealth
from openlfr.sources.factory import open_source
from openlfr.sources.hosts import SourceNotAllowedError, check_stream_host
from openlfr.sources.mandate import RecognitionMandate, utcnow
from openlfr.sources.redact import redact
from openlfr.store.camera_models import CameraRecord
from openlfr.store.db import Database
from openlfr.store.errors import ConflictError, NotFoundError
from openlfr.store.governance_models import Deployment
from openlfr.store.media import MediaStore
from openlfr.store.models import Snapshot, SnapshotTemplate, Template
from openlfr.types import Frame, ImageBGR
from openlfr.watchlists.erase import on_erasure
from openlfr.watchlists.snapshots import snapshot_templates

log = logging.getLogger(__name__)

CAMERA_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
_STREAM_SCHEMES = ("rtsp://", "rtsps://", "http://", "https://")
PREVIEW_MAX_SIDE = 640
_JOIN_TIMEOUT_S = 15.0


class CameraError(OpenLFRError):
    """A camera definition is not usable (bad name, a source that cannot exist)."""

    code = "camera_invalid"


class CameraHostError(CameraError):
    """A stream camera on a host the configuration does not allow (``sources.allowed_hosts``)."""

    code = "camera_host_not_allowed"


def check_camera(name: str, source: str, allowed_hosts: Sequence[str] = ()) -> None:
    """Refuse a camera that can never work, or may not be used (a stream on a host outside
    ``allowed_hosts``); a stream is only checked for its shape (it may be down now)."""
    if not CAMERA_NAME.match(name):
        raise CameraError("a camera name is 1-64 letters, digits, '_', '.' or '-', starting with a letter or digit")
    spec = source.strip()
    if not spec or len(spec) > 2000:
        raise CameraError("the camera source is empty or too long")
    try:
        check_stream_host(spec, allowed_hosts)
    except SourceNotAllowedError as exc:
        raise CameraHostError(str(exc)) from None
    if spec.lower().startswith(_STREAM_SCHEMES) or re.fullmatch(r"(?:webcam:)?\d+", spec):
        return
    if "://" in spec:
        raise CameraError(f"{redact(spec)}: unsupported URL scheme (use rtsp://, http:// or https://)")
    if not Path(spec).expanduser().exists():
        raise CameraError(f"{spec}: no such video file or image folder on the server")


@dataclass(frozen=True, slots=True)
class CameraHealth:
    """What the console and /metrics show about one camera. Nothing in it identifies anyone."""

    camera_id: str
    name: str
    target: str
    """the redacted source"""
    state: str
    """idle (no deployment uses it) or the source's state: starting, running, reconnecting, failed, ended…"""
    deployment_id: str | None
    fps: float
    frames: int
    faces: int
    alerts: int
    frames_dropped: int
    reconnects: int
    queue_depth: int
    last_frame_at: float | None
    last_error: str | None
    tracks_unexamined: int = 0
    """passers-by with a usable face that real time forced the pipeline to skip (issue 14)"""


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
    threshold: float
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
    error: str | None = None
    stop_listening: Callable[[], None] | None = None


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


def _erasures(session: Session, snapshot_id: str) -> int:
    snapshot = session.get(Snapshot, snapshot_id)
    return int(snapshot.erasures or 0) if snapshot is not None else 0


def _default_engine_factory(settings: Settings) -> Callable[[], FaceEngine]:
    def factory() -> FaceEngine:
        return FaceEngine.from_settings(pipeline_settings(settings))

    return factory


# The per-camera series of /metrics: (name, help, type, value of one camera's health).
_CAMERA_METRICS: tuple[tuple[str, str, Literal["gauge", "counter"], Callable[[CameraHealth], float]], ...] = (
    ("openlfr_camera_fps", "frames per second read from the camera", "gauge", lambda h: h.fps),
    ("openlfr_camera_frames_total", "frames processed in the current deployment", "counter", lambda h: h.frames),
    ("openlfr_camera_faces_total", "faces detected in the current deployment", "counter", lambda h: h.faces),
    ("openlfr_camera_alerts_total", "alerts raised in the current deployment", "counter", lambda h: h.alerts),
    (
        "openlfr_camera_tracks_unexamined_total",
        "passers-by with a usable face left without any embedding in the current deployment (models too slow)",
        "counter",
        lambda h: h.tracks_unexamined,
    ),
    ("openlfr_camera_queue_depth", "frames waiting for the models", "gauge", lambda h: h.queue_depth),
    ("openlfr_camera_up", "1 while the camera delivers frames", "gauge", lambda h: 1 if h.state == "running" else 0),
)


# The latency histograms of /metrics: (name, help, the pipeline statistic), per running deployment.
_LATENCY_METRICS: tuple[tuple[str, str, str], ...] = (
    ("openlfr_frame_latency_seconds", "capture to decision, every frame of the deployment", "frame_latency"),
    ("openlfr_alert_latency_seconds", "capture of the decisive frame to the alert decision", "alert_latency"),
)


class CameraManager:
    """Implements ``openlfr.service.controller.RecognitionController`` and ``openlfr.api.services.MetricSource``."""

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
        """``clock``: the time the deployments' mandates are checked against (the scheduler's clock)."""
        self.settings = settings
        self.db = db
        self.media = media
        self.bus = bus
        self.engine_factory = engine_factory or _default_engine_factory(settings)
        self.pipeline_config = pipeline_config or PipelineConfig()
        self.realtime_files = realtime_files
        self.clock = clock
        self._runs: dict[str, _Run] = {}
        self._stopped_counts: dict[str, RunCounts] = {}
        """per deployment: what its last run counted in all, until it starts again"""
        self._lock = threading.RLock()
        self._preview_detector: FaceDetector | None = None
        self._preview_lock = threading.Lock()
        self.wall = CameraWall()
        """the live camera wall's frames (openlfr.service.wall)"""

    # -- the camera registry ------------------------------------------------------------------------------

    def add_camera(
        self, session: Session, *, name: str, source: str, created_by: str, location: str = "", loop: bool = False
    ) -> CameraRecord:
        check_camera(name, source, self.settings.sources.allowed_hosts)
        if session.scalar(select(CameraRecord).where(CameraRecord.name == name)) is not None:
            raise ConflictError(f"a camera named {name!r} exists already")
        record = CameraRecord(name=name, source=source.strip(), location=location, loop=loop, created_by=created_by)
        session.add(record)
        session.flush()
        return record

    def remove_camera(self, session: Session, camera_id: str) -> CameraRecord:
        record = self.get_camera(session, camera_id)
        running = self._deployment_of(camera_id)
        if running is not None:
            raise ConflictError(f"camera {record.name} is in use by live deployment {running}: stop that first")
        # A deployment names registered cameras only: one that is not over yet keeps its cameras.
        for deployment_id, camera_ids in session.execute(
            select(Deployment.id, Deployment.camera_ids).where(Deployment.status.in_(("draft", "authorised", "live")))
        ):
            if camera_id in camera_ids:
                raise ConflictError(
                    f"camera {record.name} is named by deployment {deployment_id}: change or end that first"
                )
        session.delete(record)
        session.flush()
        return record

    @staticmethod
    def get_camera(session: Session, camera_id: str) -> CameraRecord:
        record = session.get(CameraRecord, camera_id)
        if record is None:
            raise NotFoundError(f"no camera {camera_id!r}")
        return record

    @staticmethod
    def list_cameras(session: Session) -> list[CameraRecord]:
        return list(session.scalars(select(CameraRecord).order_by(CameraRecord.name)))

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
                other = self._deployment_of(grant.camera_id)
                if other is not None:
                    raise ConflictError(f"camera {grant.camera_id} is in use by deployment {other}")
            with self.db.session() as session:
                snapshot = load_snapshot(session, mandate.snapshot_id)
                erasures = _erasures(session, mandate.snapshot_id)
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
                store = DbAlertStore(self.db, self.media, deployment_id=deployment_id, check_subjects=True)
                dispatcher = AlertDispatcher(store, [_BusForwarder(self.bus)])
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
            run = _Run(deployment_id, mandate.snapshot_id, mandate.threshold, cameras, pipeline, taps, erasures)
            run.stop_listening = on_erasure(pipeline.forget_subject)
            run.thread = threading.Thread(
                target=self._run, args=(run,), name=f"deployment-{deployment_id}", daemon=True
            )
            self._runs[deployment_id] = run
            self._stopped_counts.pop(deployment_id, None)
            run.thread.start()
        log.info(
            "recognition started: deployment %s, %d camera(s), threshold %.3f",
            deployment_id,
            len(cameras),
            mandate.threshold,
        )

    def refresh_galleries(self) -> None:
        """Catch up with erasures made by another process: a running deployment whose snapshot lost subjects
        since its gallery was loaded forgets them (its alert store has been refusing their alerts)."""
        with self._lock:
            runs = list(self._runs.values())
        for run in runs:
            with self.db.session() as session:
                erasures = _erasures(session, run.snapshot_id)
                if erasures == run.erasures:
                    continue
                present = set(
                    session.scalars(
                        select(SnapshotTemplate.subject_id).where(SnapshotTemplate.snapshot_id == run.snapshot_id)
                    )
                )
            gone = set(run.pipeline.runner.snapshot.subject_ids) - present
            for subject_id in sorted(gone):
                run.pipeline.forget_subject(subject_id)
            run.erasures = erasures

    def _run(self, run: _Run) -> None:
        try:
            run.summary = run.pipeline.run(run.stop)
            if run.summary.halted == "watchlist_empty":
                run.error = "every subject of the watchlist was erased: nothing is left to search"
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
            self._stopped_counts[deployment_id] = _run_counts(run)
        log.info("recognition stopped: deployment %s", deployment_id)

    def active_deployments(self) -> frozenset[str]:
        with self._lock:
            return frozenset(self._runs)

    def stop_all(self) -> None:
        for deployment_id in sorted(self.active_deployments()):
            self.stop_recognition(deployment_id)

    def deployment_counts(self, deployment_id: str) -> RunCounts | None:
        """``DeploymentCounter``: what the deployment's current run has counted (frames, face detections,
        tracks = faces seen), or its last run's total once stopped; None when it never ran here."""
        with self._lock:
            run = self._runs.get(deployment_id)
            if run is None:
                return self._stopped_counts.get(deployment_id)
        return _run_counts(run)

    def run_finished(self, deployment_id: str) -> bool:
        """Whether the deployment's pipeline thread has ended (its file sources ended, or it failed)."""
        with self._lock:
            run = self._runs.get(deployment_id)
        return run is None or run.thread is None or not run.thread.is_alive()

    # -- health, preview, metrics -------------------------------------------------------------------------

    def _deployment_of(self, camera_id: str) -> str | None:
        with self._lock:
            return next((d for d, run in self._runs.items() if camera_id in run.cameras), None)

    def health(self, records: Iterable[CameraRecord]) -> list[CameraHealth]:
        with self._lock:
            runs = list(self._runs.values())
        out = []
        for record in records:
            run = next((r for r in runs if record.id in r.cameras), None)
            if run is None:
                out.append(
                    CameraHealth(
                        record.id,
                        record.name,
                        redacted_target(record.source),
                        "idle",
                        None,
                        0.0,
                        0,
                        0,
                        0,
                        0,
                        0,
                        0,
                        None,
                        None,
                    )
                )
                continue
            source = run.taps[record.id].health()
            reader = next(r for r in run.pipeline.readers if r.source_id == record.name)
            state = run.pipeline.runner.cameras.get(record.name)
            error = source.last_error or run.error or (str(reader.error) if reader.error else None)
            out.append(
                CameraHealth(
                    camera_id=record.id,
                    name=record.name,
                    target=source.target,
                    state=_run_state(run, str(source.state)),
                    deployment_id=run.deployment_id,
                    fps=round(source.fps, 2),
                    frames=state.frames if state else 0,
                    faces=state.faces if state else 0,
                    alerts=state.alerts if state else 0,
                    frames_dropped=source.frames_dropped + reader.dropped,
                    reconnects=source.reconnects,
                    queue_depth=reader.queue.qsize(),
                    last_frame_at=source.last_frame_at,
                    last_error=error,
                    tracks_unexamined=state.tracks_unexamined if state else 0,
                )
            )
        return out

    def preview_jpeg(self, camera_id: str) -> bytes | None:
        """The camera's newest frame, downscaled, with EVERY detected face blanked; None when it is not running."""
        with self._lock:
            run = next((r for r in self._runs.values() if camera_id in r.cameras), None)
        frame = run.taps[camera_id].latest() if run is not None else None
        if frame is None:
            return None
        small, _ = downscale(frame.image, PREVIEW_MAX_SIDE)
        with self._preview_lock:
            if self._preview_detector is None:
                self._preview_detector = create_detector(self.settings.engine.detector, self.settings.models_cache_dir)
            detections = detect_scaled(self._preview_detector, small, PREVIEW_MAX_SIDE)
        blurred = blur_faces_except(small, detections.boxes, keep=-1) if len(detections) else small.copy()
        return _jpeg(blurred)

    def collect(self) -> Iterable[Metric]:
        """The per-camera and per-deployment series of /metrics (a prometheus_client collector)."""
        with self.db.session() as session:
            health = self.health(self.list_cameras(session))
        for name, help_text, kind, measure in _CAMERA_METRICS:
            family_type = CounterMetricFamily if kind == "counter" else GaugeMetricFamily
            family = family_type(name, help_text, labels=["camera"])
            for h in health:
                family.add_metric([h.name], measure(h))
            yield family
        with self._lock:
            runs = list(self._runs.values())
        for name, help_text, stat in _LATENCY_METRICS:
            histogram = HistogramMetricFamily(name, help_text, labels=["deployment"])
            for run in runs:
                snap: HistogramSnapshot = getattr(run.pipeline.runner.stats, stat).snapshot()
                buckets = [(repr(b), float(c)) for b, c in zip(snap.bounds_s, snap.cumulative, strict=False)]
                buckets.append(("+Inf", float(snap.count)))
                histogram.add_metric([run.deployment_id], buckets, snap.sum_s)
            yield histogram
        yield GaugeMetricFamily(
            "openlfr_deployments_running", "deployments with recognition running", value=len(self.active_deployments())
        )


def _run_counts(run: _Run) -> RunCounts:
    # Read from another thread while the pipeline counts: each integer is read whole, and a reading a few
    # frames behind is simply caught up by the next one.
    runner = run.pipeline.runner
    cameras = list(runner.cameras.values())
    return RunCounts(
        frames=sum(c.frames for c in cameras),
        detections=sum(c.faces for c in cameras),
        tracks=runner.tracks_started,
        tracks_unexamined=runner.tracks_unexamined,
    )


def _run_state(run: _Run, source_state: str) -> str:
    if run.error is not None:
        return "failed"
    if run.thread is not None and not run.thread.is_alive():
        return "ended"  # every source of the deployment reached its end (or failed; see last_error)
    return source_state


def redacted_target(source: str) -> str:
    return redact(source) if "://" in source else source


def _jpeg(image: ImageBGR) -> bytes:
    try:
        return encode_jpeg(image, quality=80)
    except RuntimeError:
        raise SourceError("cannot encode the preview frame") from None
