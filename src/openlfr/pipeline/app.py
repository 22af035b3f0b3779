"""The composition root: cameras, the shared model runner and the alert path, started in order and stopped
in reverse on one stop signal.

``WatchPipeline.run`` runs the model loop on the calling thread (``lfr watch`` calls it from the main thread,
so Ctrl-C only has to set the stop event); each camera decodes and detects on its own reader thread, and
alerts are written on the alert writer's thread.

The door for live sources: a pipeline over a live source (camera stream, webcam) needs the
``RecognitionMandate`` of a live, authorised deployment (``openlfr.deployments.mandate.issue_mandate``),
runs exactly that deployment's snapshot, threshold and cameras, and stops by itself at the mandate's end.
"""

from __future__ import annotations

import logging
import os
import queue
import resource
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

import numpy as np

from openlfr.alerts.dispatch import AlertDispatcher
from openlfr.alerts.event import Mode
from openlfr.config.models import Settings
from openlfr.engine import FaceEngine
from openlfr.pipeline.alerting import AlertWriter
from openlfr.pipeline.camera import CameraReader, DetectorFailed, EndOfStream, PreparedFrame, QueueItem
from openlfr.pipeline.config import PipelineConfig
from openlfr.pipeline.gallery import WatchlistSnapshot
from openlfr.pipeline.runner import STAGES, Judgement, ModelRunner
from openlfr.pipeline.status import CameraStatus, PipelineStatus
from openlfr.pipeline.thresholds import default_threshold
from openlfr.pipeline.view import CameraView
from openlfr.sources.base import FrameSource
from openlfr.sources.mandate import RecognitionMandate, RecognitionNotAuthorisedError
from openlfr.utc import utcnow
from openlfr.zone import Zone

log = logging.getLogger(__name__)

_IDLE_WAIT_S = 0.02


@dataclass(frozen=True, slots=True)
class RunSummary:
    """Counts and timings of one run. Nothing in it identifies anyone."""

    frames: int
    faces: int
    tracks: int
    embedded: int
    alerts: int
    scene_cuts: int
    wall_s: float
    cpu_s: float
    peak_rss_mb: float
    stage_median_ms: dict[str, float]
    latency_p50_ms: float
    latency_p95_ms: float
    alert_latency_ms: tuple[float, ...]
    """capture → decision of the run's most recent alerts (at most 20 000: memory stays bounded on a run of
    weeks; the full count is in ``alerts``)"""
    outcomes: dict[str, int]
    threshold: float
    stopped: bool
    """True when a stop signal ended the run before its sources did"""
    dropped_frames: int = 0
    """frames a camera dropped because the models were behind (live sources, or files played as cameras)"""
    tracks_unexamined: int = 0
    """tracks with a usable face that ended without a single embedding: a real-time camera gave them up
    (``give_up_after_s``) or the run was stopped while they waited. Passers-by the system did not check."""
    halted: str | None = None
    """why the pipeline stopped itself: ``mandate_expired`` (its deployment's window ended) or
    ``watchlist_empty`` (every subject was erased); None otherwise"""
    dropped_erased: int = 0
    """alerts dropped because their subject was erased while the pipeline ran"""

    @property
    def fps(self) -> float:
        return self.frames / self.wall_s if self.wall_s > 0 else 0.0

    def as_dict(self) -> dict[str, object]:
        return {
            "frames": self.frames,
            "faces": self.faces,
            "tracks": self.tracks,
            "tracks_unexamined": self.tracks_unexamined,
            "embedded": self.embedded,
            "alerts": self.alerts,
            "scene_cuts": self.scene_cuts,
            "dropped_frames": self.dropped_frames,
            "fps": round(self.fps, 2),
            "faces_per_s": round(self.faces / self.wall_s, 2) if self.wall_s > 0 else 0.0,
            "wall_s": round(self.wall_s, 3),
            "cpu_s": round(self.cpu_s, 3),
            "cpu_cores_used": round(self.cpu_s / self.wall_s, 2) if self.wall_s > 0 else 0.0,
            "peak_rss_mb": round(self.peak_rss_mb, 1),
            "stage_median_ms": self.stage_median_ms,
            "latency_p50_ms": round(self.latency_p50_ms, 1),
            "latency_p95_ms": round(self.latency_p95_ms, 1),
            **_alert_latency(self.alert_latency_ms),
            "outcomes": self.outcomes,
            "threshold": self.threshold,
            "stopped": self.stopped,
            "halted": self.halted,
            "dropped_erased": self.dropped_erased,
        }


def _alert_latency(latencies_ms: Sequence[float]) -> dict[str, float | None]:
    """Frame capture → alert decided (before it is stored and pushed), over the run's alerts; None without any."""
    if not latencies_ms:
        return {"alert_latency_p50_ms": None, "alert_latency_p95_ms": None, "alert_latency_max_ms": None}
    values = np.asarray(latencies_ms, np.float64)
    return {
        "alert_latency_p50_ms": round(float(np.percentile(values, 50)), 1),
        "alert_latency_p95_ms": round(float(np.percentile(values, 95)), 1),
        "alert_latency_max_ms": round(float(values.max()), 1),
    }


# More detector streams than this buys nothing on a CPU (each camera thread makes one call at a time) and
# costs memory: every stream holds an infer request per compiled frame size.
_MAX_DETECTOR_STREAMS = 8


def _usable_cpus() -> int:
    """CPUs this process may run on (its affinity, not the host's count), at most ``_MAX_DETECTOR_STREAMS``."""
    try:
        available = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        available = os.cpu_count() or 1
    return max(1, min(available, _MAX_DETECTOR_STREAMS))


def pipeline_settings(settings: Settings) -> Settings:
    """``settings`` tuned for the live pipeline, where they are not set in the configuration:

    - one intra-op thread per model call. The models run while the camera threads decode; with two threads
      per call the spinning runtime workers fight the decoders for the cores (2-core reference machine: the
      crowd clip on onnxruntime ran at 23-30 fps with two threads, 48-53 fps with one, 2026-11-26);
    - a detector that serves one call per usable CPU core at once (at most 8): every camera's thread
      detects its own frames.
    """
    engine = settings.engine
    update: dict[str, object] = {}
    for part in ("detector", "embedder"):
        config = getattr(engine, part)
        fields = type(config).model_fields
        changes: dict[str, object] = {}
        if "threads" in fields and "threads" not in config.model_fields_set:
            changes["threads"] = 1
        if "parallel_calls" in fields and "parallel_calls" not in config.model_fields_set:
            changes["parallel_calls"] = _usable_cpus()
        if changes:
            update[part] = type(config).model_validate({**config.model_dump(), **changes})
    if not update:
        return settings
    return settings.model_copy(update={"engine": engine.model_copy(update=update)})


def _cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _median(values: Sequence[float]) -> float:
    return round(float(np.median(values)), 3) if len(values) else 0.0


class WatchPipeline:
    def __init__(
        self,
        engine: FaceEngine,
        snapshot: WatchlistSnapshot,
        sources: Sequence[FrameSource],
        dispatcher: AlertDispatcher,
        config: PipelineConfig | None = None,
        *,
        mode: Mode = "evaluation",
        drop_when_behind: bool | None = None,
        observer: Callable[[Judgement], None] | None = None,
        mandate: RecognitionMandate | None = None,
        clock: Callable[[], datetime] = utcnow,
        zones: Mapping[str, Zone] | None = None,
        views: Callable[[CameraView], None] | None = None,
    ) -> None:
        """``drop_when_behind``: see ``CameraReader``; ``lfr watch --realtime`` sets it so files behave as
        cameras (frames the models cannot keep up with are dropped and counted, not queued).
        ``mandate``: required when any source is live (RecognitionNotAuthorisedError otherwise); the pipeline then
        runs in production mode on the mandate's snapshot, threshold and cameras only (each camera within
        its zone, if it has one), and stops when ``clock()`` passes the mandate's end.
        ``zones``: source id → the zone recognition runs in on that source (files; a mandate's cameras carry
        their own, which take precedence). ``views``: see ``ModelRunner`` (the live camera wall)."""
        if not sources:
            raise ValueError("a pipeline needs at least one source")
        ids = [s.source_id for s in sources]
        if len(set(ids)) != len(ids):
            raise ValueError(f"source ids must be unique, got {ids}")
        self.config = config or PipelineConfig()
        self.mandate = mandate
        self.clock = clock
        _check_mandate(mandate, snapshot, sources, self.config, mode, clock())
        threshold = self.config.threshold
        if threshold is None:
            threshold = default_threshold(snapshot.contract)
        self.threshold = threshold
        self.halted: str | None = None
        self._halt = threading.Event()
        self._snapshot_lock = threading.Lock()
        self.alert_writer = AlertWriter(dispatcher)
        policy = self.config.policy(threshold)
        self.runner = ModelRunner(
            engine, snapshot, self.config, policy, self.alert_writer, mode=mode, observer=observer, views=views
        )
        self.readers = [
            CameraReader(
                s,
                engine.detector,
                max_side=self.config.detection_max_side,
                queue_size=self.config.queue_size,
                drop_when_behind=drop_when_behind,
            )
            for s in sources
        ]
        zone_of = dict(zones or {})
        if mandate is not None:
            zone_of.update({c.name: c.zone for c in mandate.cameras if c.zone is not None})
        for reader in self.readers:
            self.runner.add_camera(
                reader.source_id, realtime=reader.drop_when_behind, zone=zone_of.get(reader.source_id)
            )

    def forget_subject(self, subject_id: str) -> None:
        """An erasure: from when this returns, no alert about ``subject_id`` is stored or pushed, and it is no
        longer searched. If nobody is left on the watchlist, the pipeline stops (``halted``)."""
        self.alert_writer.dispatcher.forget([subject_id])
        with self._snapshot_lock:
            remaining = self.runner.snapshot.without([subject_id])
            if remaining is None:
                self._halt_with("watchlist_empty")
            elif remaining is not self.runner.snapshot:
                self.runner.use_snapshot(remaining)

    def searched_subjects(self) -> frozenset[str]:
        """The subjects the pipeline searches for now (the snapshot less what was erased while it runs)."""
        return frozenset(self.runner.snapshot.subject_ids)

    def _halt_with(self, reason: str) -> None:
        if self.halted is None:
            self.halted = reason
            log.warning("pipeline stops itself: %s", reason)
        self._halt.set()

    def status(self) -> PipelineStatus:
        """What the pipeline has counted so far, per camera and in all (safe from any thread; see status.py)."""
        runner = self.runner
        cameras = []
        for reader in self.readers:
            state = runner.cameras[reader.source_id]
            source = reader.source.health()
            cameras.append(
                CameraStatus(
                    source_id=reader.source_id,
                    source=source,
                    frames=state.frames,
                    faces=state.faces,
                    tracks=state.tracker.tracks_started,
                    tracks_unexamined=state.tracks_unexamined,
                    alerts=state.alerts,
                    queue_depth=reader.queue.qsize(),
                    frames_dropped=reader.dropped + source.frames_dropped,
                    latency=state.latency.snapshot(),
                    error=str(reader.error) if reader.error else None,
                )
            )
        return PipelineStatus(
            cameras=tuple(cameras),
            frame_latency=runner.stats.frame_latency.snapshot(),
            alert_latency=runner.stats.alert_latency.snapshot(),
            halted=self.halted,
        )

    def run(self, stop: threading.Event | None = None) -> RunSummary:
        """Process until every source ends or ``stop`` is set; always stops everything it started."""
        stop = stop or threading.Event()
        # Ordered start; shutdown runs the stop steps of whatever started, in reverse.
        steps: list[tuple[str, Callable[[], None], Callable[[], None]]] = [
            ("alerts", self.alert_writer.start, self.alert_writer.close),
            *((f"camera {r.source_id}", r.start, r.stop) for r in self.readers),
        ]
        started: list[tuple[str, Callable[[], None]]] = []
        cpu0, wall0 = _cpu_seconds(), time.perf_counter()
        try:
            self._warm_up()
            for name, start, stop_step in steps:
                log.debug("starting %s", name)
                start()
                started.append((name, stop_step))
            self._loop(stop)
        finally:
            for name, stop_step in reversed(started):
                log.debug("stopping %s", name)
                try:
                    stop_step()
                except Exception:  # one failing step must not keep the others running
                    log.exception("stopping %s failed", name)
            self._close_unstarted(len(started))
            self.runner.abandon()  # after a stop or a failure; a run that ended drained every wait already
        self.alert_writer.raise_if_failed()  # the last alerts are written at close
        return self._summary(time.perf_counter() - wall0, _cpu_seconds() - cpu0, stop.is_set())

    def _close_unstarted(self, started_steps: int) -> None:
        """After a failure before every step started: close what was opened but never started (a live source
        decodes from the moment it is opened; the alert store holds its files or connection)."""
        if started_steps == 0:
            self.alert_writer.dispatcher.close()
        for reader in self.readers[max(0, started_steps - 1) :]:
            reader.source.close()

    def _warm_up(self) -> None:
        """Run the models once on blank input of the shapes the first seconds will need, before any camera
        starts. OpenVINO compiles a model per input shape on first use (0.2-0.6 s each here); a stall that
        long when the first crowd walks in fills every camera's queue. Detection: the downscaled frames of
        16:9 and 4:3 cameras (others compile on their first frame); embedding: every batch size the
        per-round budget can produce (power-of-two chunks)."""
        engine = self.runner.engine
        side = self.config.detection_max_side
        for height in (side * 9 // 16, side * 3 // 4):
            engine.detector.detect(np.zeros((height, side, 3), np.uint8))
        size = 1
        while size <= self.config.embed_budget:
            engine.embedder.embed_aligned(np.zeros((size, 112, 112, 3), np.uint8))
            size *= 2

    def _loop(self, stop: threading.Event) -> None:
        active = list(self.readers)
        while (active or self.runner.waiting) and not stop.is_set() and not self._halt.is_set():
            if self.mandate is not None and not self.mandate.valid_at(self.clock()):
                self._halt_with("mandate_expired")
                break
            self.alert_writer.raise_if_failed()
            batch: list[PreparedFrame] = []
            for reader in list(active):
                try:
                    item = reader.queue.get_nowait()
                except queue.Empty:
                    continue
                self._take(reader, item, active, batch)
            if batch or self.runner.waiting:
                # No new frame but faces waiting for an embedding (tracks that ended, sources that ended):
                # embed them now rather than wait for a frame.
                self.runner.process(batch)
            elif active:
                # Nothing ready: wait on one camera (rotating) rather than spin.
                reader = active[0]
                active.append(active.pop(0))
                try:
                    item = reader.queue.get(timeout=_IDLE_WAIT_S)
                except queue.Empty:
                    continue
                self._take(reader, item, active, batch)
                if batch:
                    self.runner.process(batch)

    def _take(
        self, reader: CameraReader, item: QueueItem, active: list[CameraReader], batch: list[PreparedFrame]
    ) -> None:
        if isinstance(item, DetectorFailed):
            raise item.error  # the shared model failed: every camera is affected, the run stops
        if isinstance(item, EndOfStream):
            active.remove(reader)
            self.runner.end_camera(reader.source_id)
        else:
            batch.append(item)

    def _summary(self, wall_s: float, cpu_s: float, stopped: bool) -> RunSummary:
        cameras = self.runner.cameras.values()
        stats = self.runner.stats
        latencies = np.asarray(stats.frame_latency_ms, np.float64)
        peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        return RunSummary(
            frames=sum(c.frames for c in cameras),
            faces=sum(c.faces for c in cameras),
            tracks=self.runner.tracks_started,
            embedded=sum(c.embedded for c in cameras),
            alerts=sum(c.alerts for c in cameras),
            scene_cuts=sum(c.scene_cuts for c in cameras),
            wall_s=wall_s,
            cpu_s=cpu_s,
            peak_rss_mb=peak_kb / 1024.0,
            stage_median_ms={s: _median(stats.stages_ms[s]) for s in STAGES},
            latency_p50_ms=float(np.percentile(latencies, 50)) if latencies.size else 0.0,
            latency_p95_ms=float(np.percentile(latencies, 95)) if latencies.size else 0.0,
            alert_latency_ms=tuple(stats.alert_latency_ms),
            outcomes=dict(stats.outcomes),
            threshold=self.threshold,
            stopped=stopped,
            dropped_frames=sum(r.dropped + r.source.health().frames_dropped for r in self.readers),
            tracks_unexamined=self.runner.tracks_unexamined,
            halted=self.halted,
            dropped_erased=self.alert_writer.dispatcher.dropped_erased,
        )


def _check_mandate(
    mandate: RecognitionMandate | None,
    snapshot: WatchlistSnapshot,
    sources: Sequence[FrameSource],
    config: PipelineConfig,
    mode: Mode,
    now: datetime,
) -> None:
    """RecognitionNotAuthorisedError unless every live source is covered by a valid mandate that this pipeline
    follows to the letter (its snapshot, its threshold, its cameras, production mode)."""
    live = [s.source_id for s in sources if s.live]
    if mandate is None:
        if live:
            raise RecognitionNotAuthorisedError(
                f"live source(s) {', '.join(live)}: recognition on cameras runs only inside a live, authorised "
                "deployment (a mandate from openlfr.deployments.mandate.issue_mandate)"
            )
        return
    problems = []
    if not mandate.valid_at(now):
        problems.append("the mandate is not valid now")
    if mode != "production":
        problems.append("a deployment's pipeline runs in production mode")
    if snapshot.name != mandate.snapshot_id:
        problems.append(f"snapshot {snapshot.name} is not the deployment's ({mandate.snapshot_id})")
    if config.threshold is None or abs(config.threshold - mandate.threshold) > 1e-12:
        problems.append(f"threshold {config.threshold} is not the deployment's ({mandate.threshold})")
    granted = {camera.name for camera in mandate.cameras}
    strangers = [s.source_id for s in sources if s.source_id not in granted]
    if strangers:
        problems.append(f"source(s) {', '.join(strangers)} are not cameras of the deployment")
    if problems:
        raise RecognitionNotAuthorisedError(f"deployment {mandate.deployment_id}: " + "; ".join(problems))
