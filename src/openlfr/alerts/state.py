"""What one track has shown so far: its best few faces (kept in memory only) and the votes they cast.

Nothing here is ever written anywhere. When the track ends, the pipeline drops the object (and calls
``discard`` first, so a lingering reference cannot keep a non-match's face or embedding alive).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

import numpy as np

from openlfr.alerts.rules import Candidate, Fusion
from openlfr.match.index import SearchHit
from openlfr.quality.metrics import FaceQuality, estimate_pose
from openlfr.types import FloatArray, ImageBGR, l2_normalise


def quality_rank(quality: FaceQuality) -> float:
    """A single number to rank faces of the same track: bigger, sharper, more confident, more frontal is better.

    Only used to compare faces of one person, so the scale is arbitrary. Each factor saturates where the
    embedder stops gaining (≈ 40 px between the eyes, Laplacian variance ≈ 150) so a huge blurry face does not
    beat a sharp one. Pose is down-weighted, not excluded: the landmark yaw estimate saturates on three-quarter
    views that still match well.
    """
    sharp = min(quality.sharpness / 150.0, 1.0) ** 0.5
    geometry = _geometry_rank(quality.detector_score, quality.inter_ocular_px, quality.yaw_deg, quality.pitch_deg)
    return float(geometry * sharp)


def rank_ceiling(detector_score: float, landmarks: FloatArray) -> float:
    """The highest ``quality_rank`` a face with these landmarks can reach, however sharp it turns out to be.

    Needs neither alignment nor pixel measurements, so the pipeline can skip a face that could not beat what
    its track already holds (most faces of a track) before paying for them. Uses the same pose estimate and
    eye distance as ``measure_face``, so the bound is exact.
    """
    yaw, pitch, _ = estimate_pose(landmarks)
    inter_ocular = float(np.linalg.norm(landmarks[1] - landmarks[0]))
    return _geometry_rank(detector_score, inter_ocular, yaw, pitch)


def _geometry_rank(detector_score: float, inter_ocular_px: float, yaw_deg: float, pitch_deg: float) -> float:
    size = min(inter_ocular_px / 40.0, 1.0)
    frontal = 1.0 - 0.5 * min(abs(yaw_deg) / 90.0, 1.0)
    level = 1.0 - 0.5 * min(abs(pitch_deg) / 60.0, 1.0)
    return float(detector_score * size * frontal * level)


@dataclass(slots=True)
class FaceSample:
    """One embedded face of a track."""

    rank: float
    vector: FloatArray
    crop: ImageBGR
    """the face region with a margin, from the full-resolution frame (the alert's probe image)"""
    frame_index: int
    captured_at: float
    media_time_s: float
    hits: list[SearchHit]


@dataclass(slots=True)
class TrackEvidence:
    track_id: int
    keep: int
    samples: list[FaceSample] = field(default_factory=list)
    votes: Counter[str] = field(default_factory=Counter)
    """subject → faces of this track (all embedded ones, not only those kept) that put it first ≥ threshold"""
    alerted: set[str] = field(default_factory=set)
    faces_seen: int = 0
    embedded: int = 0

    def add(self, sample: FaceSample, threshold: float) -> None:
        self.embedded += 1
        if sample.hits and sample.hits[0].score >= threshold:
            self.votes[sample.hits[0].subject_id] += 1
        self.samples.append(sample)
        self.samples.sort(key=lambda s: -s.rank)
        del self.samples[self.keep :]

    def fused(self, rule: Fusion = "quality") -> FloatArray:
        """The kept embeddings fused by ``rule`` (``Fusion``), re-normalised."""
        if rule == "best":
            return self.samples[0].vector
        weights = np.array([max(s.rank, 1e-6) if rule == "quality" else 1.0 for s in self.samples], np.float32)
        stacked = np.stack([s.vector for s in self.samples])
        fused: FloatArray = l2_normalise((weights[:, None] * stacked).sum(axis=0, keepdims=True))[0]
        return fused

    def best_sample(self) -> FaceSample:
        return self.samples[0]

    def discard(self) -> None:
        """Forget every face and embedding; only the counts survive."""
        self.samples.clear()
        self.votes.clear()


def candidate_from(hits: list[SearchHit], votes: Counter[str]) -> Candidate | None:
    """The best subject for a fused probe, its runner-up score and the number of faces that voted for it."""
    if not hits:
        return None
    best = hits[0]
    second = hits[1].score if len(hits) > 1 else None
    return Candidate(best.subject_id, best.score, second, votes.get(best.subject_id, 0))
