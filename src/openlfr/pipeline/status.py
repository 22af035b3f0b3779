"""The pipeline's public face: what a running ``WatchPipeline`` reports about itself, as frozen records.

Whoever supervises a pipeline (``lfr serve``'s recognition supervisor, /metrics, the console's camera health)
reads these records and nothing else of the pipeline: its readers, queues, runner and statistics stay its own.
A status is read from another thread while the pipeline counts: each integer is read whole, and a reading a
few frames behind is caught up by the next one. Nothing in it identifies anyone (counts and timings only).
"""

from __future__ import annotations

from dataclasses import dataclass

from openlfr.pipeline.latency import HistogramSnapshot
from openlfr.sources.base import SourceHealth


@dataclass(frozen=True, slots=True)
class CameraStatus:
    """One camera of a running pipeline."""

    source_id: str
    source: SourceHealth
    """the source's own report (state, fps, reconnects, its own drops, last error)"""
    frames: int
    """frames the models have processed"""
    faces: int
    """face detections, counted once per frame a face is found in"""
    tracks: int
    """tracks started: distinct faces passing the camera (the published "faces seen")"""
    tracks_unexamined: int
    """passers-by with a usable face that real time forced the pipeline to skip (never embedded)"""
    alerts: int
    queue_depth: int
    """frames waiting between the camera's reader and the models"""
    frames_dropped: int
    """frames the reader dropped because the models were behind, plus those the source itself dropped"""
    latency: HistogramSnapshot
    """capture → decision of every frame of this camera since the start"""
    error: str | None
    """why the camera's reader stopped, if it failed"""

    @property
    def latency_p50_ms(self) -> float | None:
        return _ms(self.latency.quantile(0.5))

    @property
    def latency_p95_ms(self) -> float | None:
        return _ms(self.latency.quantile(0.95))


@dataclass(frozen=True, slots=True)
class PipelineStatus:
    """A whole pipeline: its cameras, and the totals the deployment figures are made of."""

    cameras: tuple[CameraStatus, ...]
    frame_latency: HistogramSnapshot
    """capture → decision of every frame of every camera since the start"""
    alert_latency: HistogramSnapshot
    """capture of the decisive frame → alert decision, every alert since the start"""
    halted: str | None
    """why the pipeline stopped itself (``mandate_expired``, ``watchlist_empty``), or None"""

    @property
    def frames(self) -> int:
        return sum(c.frames for c in self.cameras)

    @property
    def faces(self) -> int:
        return sum(c.faces for c in self.cameras)

    @property
    def tracks(self) -> int:
        return sum(c.tracks for c in self.cameras)

    @property
    def tracks_unexamined(self) -> int:
        return sum(c.tracks_unexamined for c in self.cameras)

    @property
    def alerts(self) -> int:
        return sum(c.alerts for c in self.cameras)

    def camera(self, source_id: str) -> CameraStatus | None:
        return next((c for c in self.cameras if c.source_id == source_id), None)


def _ms(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds * 1e3, 1)
