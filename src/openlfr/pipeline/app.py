"""The composition root: cameras, the shared model runner and the alert path, started in order and stopped
in reverse on one stop signal.

``WatchPipeline.run`` runs the model loop on the calling thread (``lfr watch`` calls it from the main thread,
so Ctrl-C only has to set the stop event); each camera decodes on its own reader thread.
"""

from __future__ import annotations

import logging
import queue
import resource
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from openlfr.alerts.dispatch import AlertDispatcher
from openlfr.alerts.event import Mode
from openlfr.config.models import Settings
from openlfr.engine import FaceEngine
from openlfr.pipeline.camera import CameraReader, EndOfStream, PreparedFrame
from openlfr.pipeline.config import PipelineConfig
from openlfr.pipeline.gallery import WatchlistSnapshot
from openlfr.pipeline.runner import STAGES, ModelRunner
from openlfr.pipeline.thresholds import default_threshold
from openlfr.sources.base import FrameSource

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
    outcomes: dict[str, int]
    threshold: float
    stopped: bool
    """True when a stop signal ended the run before its sources did"""
    dropped_frames: int = 0
    """frames a camera dropped because the models were behind (live sources, or files played as cameras)"""

    @property
    def fps(self) -> float:
        return self.frames / self.wall_s if self.wall_s > 0 else 0.0

    def as_dict(self) -> dict[str, object]:
        return {
            "frames": self.frames,
            "faces": self.faces,
            "tracks": self.tracks,
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
            "outcomes": self.outcomes,
            "threshold": self.threshold,
            "stopped": self.stopped,
        }


def pipeline_settings(settings: Settings) -> Settings:
    """``settings`` with one onnxruntime thread per model session, unless the configuration sets them.

    In the pipeline the models run one after the other on the model thread while the camera threads decode.
    With two intra-op threads per session, onnxruntime's spinning workers fight the decoders for the cores:
    on the 2-core reference machine the crowd clip ran at 23-30 fps with two threads and 48-53 fps with one
    (docs/BENCHMARKS.md).
    """
    engine = settings.engine
    update: dict[str, object] = {}
    for part in ("detector", "embedder"):
        config = getattr(engine, part)
        if "threads" in type(config).model_fields and "threads" not in config.model_fields_set:
            update[part] = config.model_copy(update={"threads": 1})
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
    ) -> None:
        """``drop_when_behind``: see ``CameraReader``; ``lfr watch --realtime`` sets it so files behave as
        cameras (frames the models cannot keep up with are dropped and counted, not queued)."""
        if not sources:
            raise ValueError("a pipeline needs at least one source")
        ids = [s.source_id for s in sources]
        if len(set(ids)) != len(ids):
            raise ValueError(f"source ids must be unique, got {ids}")
        self.config = config or PipelineConfig()
        threshold = self.config.threshold
        if threshold is None:
            threshold = default_threshold(snapshot.contract)
        self.threshold = threshold
        self.dispatcher = dispatcher
        self.runner = ModelRunner(engine, snapshot, self.config, self.config.policy(threshold), dispatcher, mode=mode)
        self.readers = [
            CameraReader(
                s,
                max_side=self.config.detection_max_side,
                queue_size=self.config.queue_size,
                drop_when_behind=drop_when_behind,
            )
            for s in sources
        ]
        for reader in self.readers:
            self.runner.add_camera(reader.source_id)

    def run(self, stop: threading.Event | None = None) -> RunSummary:
        """Process until every source ends or ``stop`` is set; always stops everything it started."""
        stop = stop or threading.Event()
        # Ordered start; shutdown runs the stop steps of whatever started, in reverse.
        steps: list[tuple[str, Callable[[], None], Callable[[], None]]] = [
            ("alerts", lambda: None, self.dispatcher.close),
            *((f"camera {r.source_id}", r.start, r.stop) for r in self.readers),
        ]
        started: list[tuple[str, Callable[[], None]]] = []
        cpu0, wall0 = _cpu_seconds(), time.perf_counter()
        try:
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
            for camera in self.runner.cameras.values():
                self.runner.end_camera(camera.source_id)
        return self._summary(time.perf_counter() - wall0, _cpu_seconds() - cpu0, stop.is_set())

    def _loop(self, stop: threading.Event) -> None:
        active = list(self.readers)
        while active and not stop.is_set():
            batch: list[PreparedFrame] = []
            for reader in list(active):
                try:
                    item = reader.queue.get_nowait()
                except queue.Empty:
                    continue
                if isinstance(item, EndOfStream):
                    active.remove(reader)
                    self.runner.end_camera(reader.source_id)
                else:
                    batch.append(item)
            if batch:
                self.runner.process(batch)
            elif active:
                # Nothing ready: wait on one camera (rotating) rather than spin.
                reader = active[0]
                active.append(active.pop(0))
                try:
                    item = reader.queue.get(timeout=_IDLE_WAIT_S)
                except queue.Empty:
                    continue
                if isinstance(item, EndOfStream):
                    active.remove(reader)
                    self.runner.end_camera(reader.source_id)
                else:
                    self.runner.process([item])

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
        )
