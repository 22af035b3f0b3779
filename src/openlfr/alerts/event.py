"""The alert record: what was decided, about whom, from which evidence, and how fast."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Mode = Literal["evaluation", "production"]


@dataclass(frozen=True, slots=True)
class AlertEvent:
    """One alert. Images travel as encoded JPEG bytes; ``as_record`` leaves them out (the store keeps them).

    Times: ``frame_wall_time`` is when the decisive frame was captured (wall clock), ``decided_at`` when the
    decision was made (wall clock); ``latency_ms`` is capture → decision on the monotonic clock.
    """

    alert_id: str
    mode: Mode
    source: str
    track_id: int
    subject_id: str
    score: float
    second_score: float | None
    evidence: int
    threshold: float
    frame_index: int
    frame_time_s: float
    frame_wall_time: float
    decided_at: float
    latency_ms: float
    model: str
    reference_image: str
    """the watchlist reference image whose template matched the probe best (a path or a store id)"""
    probe_jpeg: bytes
    context_jpeg: bytes | None = None
    """the decisive frame with every face but the matched one blurred, when context frames are kept"""

    def as_record(self) -> dict[str, object]:
        """JSON-ready fields (no image bytes)."""
        return {
            "alert_id": self.alert_id,
            "mode": self.mode,
            "source": self.source,
            "track_id": self.track_id,
            "subject_id": self.subject_id,
            "score": round(self.score, 4),
            "second_score": None if self.second_score is None else round(self.second_score, 4),
            "evidence": self.evidence,
            "threshold": self.threshold,
            "frame_index": self.frame_index,
            "frame_time_s": round(self.frame_time_s, 3),
            "frame_wall_time": round(self.frame_wall_time, 3),
            "decided_at": round(self.decided_at, 3),
            "latency_ms": round(self.latency_ms, 1),
            "model": self.model,
            "reference_image": self.reference_image,
        }
