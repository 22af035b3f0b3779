"""An IoU tracker in the ByteTrack manner, for faces.

Confident detections are matched to live tracks first; the weaker ones (a face turning away, a motion-
blurred frame) may then only *continue* a track the confident pass left unmatched, never start one. That is
ByteTrack's idea, and it keeps a person's pass in one track through the frames where the detector hesitates.

Faces are small and move fast relative to their size (a face of 40 px moving 10 px per frame overlaps
itself by only ~60 %), so the association cost mixes IoU with the centre distance measured in face sizes.
A constant-velocity prediction of each box carries tracks through a few frames of missed detections.
Association is greedy on the cost matrix (best pair first): with the handful of faces per frame a camera
sees, it gives the same answer as the Hungarian algorithm in practice and needs no SciPy.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from openlfr.types import FaceDetections, FloatArray


@dataclass(frozen=True, slots=True)
class TrackerConfig:
    high_score: float = 0.75
    """detections at or above this score are matched first and may start tracks"""
    min_iou: float = 0.2
    """a detection continues a track when IoU >= this, or when ``max_centre_shift`` allows it"""
    max_centre_shift: float = 0.6
    """... or when its centre is within this many face widths of the track's predicted centre"""
    min_hits: int = 2
    """matched detections before a track is confirmed (single-frame false detections never are)"""
    max_age: int = 10
    """frames a track survives without a detection before it ends"""
    max_size_ratio: float = 1.6
    """a detection more than this many times larger or smaller (width) than the track is someone else"""


@dataclass(slots=True)
class _Track:
    track_id: int
    box: FloatArray
    velocity: FloatArray
    hits: int = 1
    missed: int = 0

    def predicted(self) -> FloatArray:
        box: FloatArray = (self.box + self.velocity * (self.missed + 1)).astype(np.float32)
        return box


@dataclass(frozen=True, slots=True)
class TrackUpdate:
    """The result of one frame: ``track_ids[i]`` is detection i's track (-1: unmatched weak detection);
    ``confirmed[i]`` says whether that track is confirmed; ``ended`` lists tracks that ended now."""

    detections: FaceDetections
    track_ids: npt.NDArray[np.int64]
    confirmed: npt.NDArray[np.bool_]
    ended: tuple[int, ...] = field(default=())


def iou_matrix(a: FloatArray, b: FloatArray) -> FloatArray:
    """IoU of every box of ``a`` (N,4) with every box of ``b`` (M,4)."""
    x1 = np.maximum(a[:, None, 0], b[None, :, 0])
    y1 = np.maximum(a[:, None, 1], b[None, :, 1])
    x2 = np.minimum(a[:, None, 2], b[None, :, 2])
    y2 = np.minimum(a[:, None, 3], b[None, :, 3])
    inter = np.clip(x2 - x1, 0, None) * np.clip(y2 - y1, 0, None)
    area_a = np.clip(a[:, 2] - a[:, 0], 0, None) * np.clip(a[:, 3] - a[:, 1], 0, None)
    area_b = np.clip(b[:, 2] - b[:, 0], 0, None) * np.clip(b[:, 3] - b[:, 1], 0, None)
    union = area_a[:, None] + area_b[None, :] - inter
    result: FloatArray = (inter / np.maximum(union, 1e-9)).astype(np.float32)
    return result


def _affinity(tracks: FloatArray, boxes: FloatArray, config: TrackerConfig) -> FloatArray:
    """Higher is better; -inf where the pair may not be associated."""
    iou = iou_matrix(tracks, boxes)
    t_centre = (tracks[:, :2] + tracks[:, 2:]) / 2
    b_centre = (boxes[:, :2] + boxes[:, 2:]) / 2
    t_width = np.maximum(tracks[:, 2] - tracks[:, 0], 1.0)
    b_width = np.maximum(boxes[:, 2] - boxes[:, 0], 1.0)
    shift = np.linalg.norm(t_centre[:, None, :] - b_centre[None, :, :], axis=2) / t_width[:, None]
    ratio = np.maximum(t_width[:, None] / b_width[None, :], b_width[None, :] / t_width[:, None])
    allowed = ((iou >= config.min_iou) | (shift <= config.max_centre_shift)) & (ratio <= config.max_size_ratio)
    score = iou + np.clip(1.0 - shift, 0.0, 1.0)
    result: FloatArray = np.where(allowed, score, -np.inf).astype(np.float32)
    return result


def _greedy(affinity: FloatArray) -> list[tuple[int, int]]:
    pairs: list[tuple[int, int]] = []
    if affinity.size == 0:
        return pairs
    work = affinity.copy()
    while True:
        flat = int(np.argmax(work))
        row, col = divmod(flat, work.shape[1])
        if not np.isfinite(work[row, col]):
            return pairs
        pairs.append((row, col))
        work[row, :] = -np.inf
        work[:, col] = -np.inf


class FaceTracker:
    """``update(detections) -> TrackUpdate`` once per frame of one camera. Not thread-safe (one per camera)."""

    def __init__(self, config: TrackerConfig | None = None) -> None:
        self.config = config or TrackerConfig()
        self._tracks: list[_Track] = []
        self._next_id = 1
        self.tracks_started = 0

    @property
    def active(self) -> tuple[int, ...]:
        return tuple(t.track_id for t in self._tracks)

    def update(self, detections: FaceDetections) -> TrackUpdate:
        n = len(detections)
        assigned = np.full(n, -1, np.int64)
        matched_tracks: set[int] = set()
        strong = np.flatnonzero(detections.scores >= self.config.high_score)
        weak = np.flatnonzero(detections.scores < self.config.high_score)
        for group in (strong, weak):
            free = [i for i, t in enumerate(self._tracks) if i not in matched_tracks]
            if not free or group.size == 0:
                continue
            predicted = np.stack([self._tracks[i].predicted() for i in free])
            affinity = _affinity(predicted, detections.boxes[group], self.config)
            for row, col in _greedy(affinity):
                track_index, det_index = free[row], int(group[col])
                matched_tracks.add(track_index)
                assigned[det_index] = self._tracks[track_index].track_id
                self._continue(self._tracks[track_index], detections.boxes[det_index])
        for index, track in enumerate(self._tracks):
            if index not in matched_tracks:
                track.missed += 1
        for new in strong:
            if assigned[new] < 0:
                assigned[new] = self._start(detections.boxes[new])
        ended = tuple(t.track_id for t in self._tracks if t.missed > self.config.max_age)
        self._tracks = [t for t in self._tracks if t.missed <= self.config.max_age]
        hits = {t.track_id: t.hits for t in self._tracks}
        confirmed = np.array([hits.get(int(tid), 0) >= self.config.min_hits for tid in assigned], dtype=np.bool_)
        return TrackUpdate(detections, assigned, confirmed, ended)

    def end_all(self) -> tuple[int, ...]:
        """End every live track (the source ended or the scene was reset)."""
        ended = tuple(t.track_id for t in self._tracks)
        self._tracks = []
        return ended

    def _continue(self, track: _Track, box: FloatArray) -> None:
        steps = track.missed + 1
        velocity = (box - track.box) / steps
        # Smoothed: a jittery detector box would otherwise throw the prediction around.
        track.velocity = (0.5 * track.velocity + 0.5 * velocity).astype(np.float32)
        track.box = np.asarray(box, np.float32).copy()
        track.hits += 1
        track.missed = 0

    def _start(self, box: FloatArray) -> int:
        track = _Track(self._next_id, np.asarray(box, np.float32).copy(), np.zeros(4, np.float32))
        self._next_id += 1
        self.tracks_started += 1
        self._tracks.append(track)
        return track.track_id
