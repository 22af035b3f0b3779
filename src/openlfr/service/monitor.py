"""Camera health, the blurred live preview and the /metrics series of ``lfr serve``: what the console, the
API and Prometheus see of the registered cameras and the recognition that reads them. It reads the recognition
supervisor's frozen ``DeploymentRun`` records (the pipeline's public status) and nothing else of a pipeline.

The live preview never leaves this module unblurred: ``preview_jpeg`` runs a detector of its own on the newest
frame and blanks every face it finds before encoding. Frames are held in memory only (the newest one per
camera, by the supervisor), never written anywhere.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Literal

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily, Metric

from openlfr.config.models import Settings
from openlfr.detect.base import FaceDetector, create_detector, detect_scaled
from openlfr.errors import SourceError
from openlfr.pipeline.alerting import blur_faces_except, encode_jpeg
from openlfr.pipeline.camera import downscale
from openlfr.pipeline.latency import HistogramSnapshot
from openlfr.pipeline.status import CameraStatus
from openlfr.service.registry import list_cameras, redacted_target
from openlfr.service.supervisor import DeploymentRun, RecognitionView
from openlfr.service.testview import BlankedFrame
from openlfr.store.camera_models import CameraRecord
from openlfr.store.db import Database
from openlfr.types import ImageBGR

PREVIEW_MAX_SIDE = 640


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
    tracks: int = 0
    """distinct faces that passed the camera (tracks started) in the current deployment"""
    tracks_unexamined: int = 0
    """passers-by with a usable face that real time forced the pipeline to skip (issue 14)"""
    latency_p50_ms: float | None = None
    """capture → decision of the camera's frames, median (estimated from the latency histogram)"""
    latency_p95_ms: float | None = None


def idle_health(record: CameraRecord) -> CameraHealth:
    return CameraHealth(
        record.id, record.name, redacted_target(record.source), "idle", None, 0.0, 0, 0, 0, 0, 0, 0, None, None
    )


def camera_health(record: CameraRecord, run: DeploymentRun, camera: CameraStatus) -> CameraHealth:
    source = camera.source
    state = run.state if run.state != "running" else str(source.state)
    return CameraHealth(
        camera_id=record.id,
        name=record.name,
        target=source.target,
        state=state,
        deployment_id=run.deployment_id,
        fps=round(source.fps, 2),
        frames=camera.frames,
        faces=camera.faces,
        alerts=camera.alerts,
        frames_dropped=camera.frames_dropped,
        reconnects=source.reconnects,
        queue_depth=camera.queue_depth,
        last_frame_at=source.last_frame_at,
        last_error=source.last_error or run.error or camera.error,
        tracks=camera.tracks,
        tracks_unexamined=camera.tracks_unexamined,
        latency_p50_ms=camera.latency_p50_ms,
        latency_p95_ms=camera.latency_p95_ms,
    )


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

# The latency histograms of /metrics: (name, help, which histogram of a run's status), per running deployment.
_LATENCY_METRICS: tuple[tuple[str, str, Callable[[DeploymentRun], HistogramSnapshot]], ...] = (
    (
        "openlfr_frame_latency_seconds",
        "capture to decision, every frame of the deployment",
        lambda run: run.status.frame_latency,
    ),
    (
        "openlfr_alert_latency_seconds",
        "capture of the decisive frame to the alert decision",
        lambda run: run.status.alert_latency,
    ),
)


class CameraMonitor:
    """Health, preview and metrics of the registered cameras; implements ``openlfr.api.services.MetricSource``."""

    def __init__(self, settings: Settings, db: Database, supervisor: RecognitionView) -> None:
        self.settings = settings
        self.db = db
        self.supervisor = supervisor
        self._preview_detector: FaceDetector | None = None
        self._preview_lock = threading.Lock()

    def deployment_of(self, camera_id: str) -> str | None:
        return self.supervisor.deployment_of(camera_id)

    def runs(self) -> tuple[DeploymentRun, ...]:
        return self.supervisor.runs()

    def health(self, records: Iterable[CameraRecord]) -> list[CameraHealth]:
        runs = self.supervisor.runs()
        out = []
        for record in records:
            run = next((r for r in runs if r.camera_name(record.id) is not None), None)
            camera = run.status.camera(record.name) if run is not None else None
            if run is None or camera is None:
                out.append(idle_health(record))
            else:
                out.append(camera_health(record, run, camera))
        return out

    def preview_jpeg(self, camera_id: str) -> bytes | None:
        """The camera's newest frame, downscaled, with EVERY detected face blanked; None when it is not running."""
        frame = self.supervisor.latest_frame(camera_id)
        return None if frame is None else self.blank(frame.image).jpeg

    def latest_image(self, camera_id: str) -> ImageBGR | None:
        """The running camera's newest frame, in memory, for ``blank`` only; None when it is not running."""
        frame = self.supervisor.latest_frame(camera_id)
        return None if frame is None else frame.image

    def blank(self, image: ImageBGR) -> BlankedFrame:
        """``image`` downscaled, with EVERY face the preview's own detector finds blanked, as a JPEG."""
        small, _ = downscale(image, PREVIEW_MAX_SIDE)
        with self._preview_lock:
            if self._preview_detector is None:
                self._preview_detector = create_detector(self.settings.engine.detector, self.settings.models_cache_dir)
            detections = detect_scaled(self._preview_detector, small, PREVIEW_MAX_SIDE)
        blurred = blur_faces_except(small, detections.boxes, keep=-1) if len(detections) else small.copy()
        height, width = blurred.shape[:2]
        return BlankedFrame(jpeg=_jpeg(blurred), width=width, height=height, faces=len(detections))

    def collect(self) -> Iterable[Metric]:
        """The per-camera and per-deployment series of /metrics (a prometheus_client collector)."""
        with self.db.session() as session:
            health = self.health(list_cameras(session))
        for name, help_text, kind, measure in _CAMERA_METRICS:
            family_type = CounterMetricFamily if kind == "counter" else GaugeMetricFamily
            family = family_type(name, help_text, labels=["camera"])
            for h in health:
                family.add_metric([h.name], measure(h))
            yield family
        runs = self.supervisor.runs()
        for name, help_text, histogram_of in _LATENCY_METRICS:
            histogram = HistogramMetricFamily(name, help_text, labels=["deployment"])
            for run in runs:
                snap = histogram_of(run)
                buckets = [(repr(b), float(c)) for b, c in zip(snap.bounds_s, snap.cumulative, strict=False)]
                buckets.append(("+Inf", float(snap.count)))
                histogram.add_metric([run.deployment_id], buckets, snap.sum_s)
            yield histogram
        yield GaugeMetricFamily("openlfr_deployments_running", "deployments with recognition running", value=len(runs))


def _jpeg(image: ImageBGR) -> bytes:
    try:
        return encode_jpeg(image, quality=80)
    except RuntimeError:
        raise SourceError("cannot encode the preview frame") from None
