"""The model runner: detection, tracking, face selection, embedding (batched across cameras), matching and
decisions, for every camera of the process, on one thread with shared models.

Per frame: detect on the downscaled frame, map boxes back, track. Per confirmed track: align the face on the
full-resolution frame, measure its quality, and embed it only if it beats the faces the track already holds
(``TrackEvidence.wants``). All faces to embed in one round (one frame from each camera that has one) go
through the embedder in one batch. A track with a new face fuses its best faces and is judged by the rules.

Privacy: a track's faces and embeddings live in its ``TrackEvidence`` only, and are discarded when the track
ends; what outlives a track is its counts. Only an alert leaves this module with images.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections import deque
from dataclasses import dataclass, field

import cv2
import numpy as np

from openlfr.alerts.dispatch import AlertDispatcher
from openlfr.alerts.event import AlertEvent, Mode
from openlfr.alerts.rules import Decision, DecisionPolicy, Outcome, decide
from openlfr.alerts.state import FaceSample, TrackEvidence, candidate_from, quality_rank
from openlfr.embed.align import align_faces
from openlfr.engine import FaceEngine
from openlfr.pipeline.camera import PreparedFrame
from openlfr.pipeline.config import PipelineConfig
from openlfr.pipeline.gallery import WatchlistSnapshot
from openlfr.quality.gate import gate_face
from openlfr.quality.metrics import measure_face
from openlfr.track.tracker import FaceTracker
from openlfr.types import FaceDetections, FloatArray, ImageBGR, as_image

log = logging.getLogger(__name__)

STAGES = ("decode", "resize", "detect", "track", "select", "embed", "match")
_TIMING_WINDOW = 20_000  # recent samples per stage: bounded memory on a camera that runs for weeks


@dataclass(slots=True)
class CameraState:
    source_id: str
    tracker: FaceTracker
    tracks: dict[int, TrackEvidence] = field(default_factory=dict)
    last_alert_at: dict[str, float] = field(default_factory=dict)
    """subject → media time of the last alert on this camera (the cooldown clock)"""
    previous_thumbnail: np.ndarray | None = None
    frames: int = 0
    faces: int = 0
    embedded: int = 0
    alerts: int = 0
    scene_cuts: int = 0


@dataclass(slots=True)
class _Request:
    camera: CameraState
    prepared: PreparedFrame
    detections: FaceDetections
    index: int
    track_id: int
    rank: float
    aligned: np.ndarray


@dataclass(slots=True)
class RunnerStats:
    stages_ms: dict[str, deque[float]] = field(
        default_factory=lambda: {s: deque(maxlen=_TIMING_WINDOW) for s in STAGES}
    )
    frame_latency_ms: deque[float] = field(default_factory=lambda: deque(maxlen=_TIMING_WINDOW))
    alert_latency_ms: list[float] = field(default_factory=list)
    outcomes: dict[str, int] = field(default_factory=dict)


def crop_face(image: ImageBGR, box: FloatArray, margin: float = 0.3) -> ImageBGR:
    """The face box grown by ``margin`` on each side, clipped to the image (a copy)."""
    height, width = image.shape[:2]
    x1, y1, x2, y2 = (float(v) for v in box)
    dx, dy = (x2 - x1) * margin, (y2 - y1) * margin
    left, top = max(0, int(x1 - dx)), max(0, int(y1 - dy))
    right, bottom = min(width, int(x2 + dx) + 1), min(height, int(y2 + dy) + 1)
    return as_image(image[top:bottom, left:right].copy())


def blur_faces_except(image: ImageBGR, boxes: FloatArray, keep: int) -> ImageBGR:
    """A copy of ``image`` in which every box but ``keep`` (grown by 20 %) is blanked out."""
    out = image.copy()
    height, width = image.shape[:2]
    for i, (x1, y1, x2, y2) in enumerate(boxes.tolist()):
        if i == keep:
            continue
        dx, dy = (x2 - x1) * 0.2, (y2 - y1) * 0.2
        left, top = max(0, int(x1 - dx)), max(0, int(y1 - dy))
        right, bottom = min(width, int(x2 + dx) + 1), min(height, int(y2 + dy) + 1)
        if right <= left or bottom <= top:
            continue
        region = out[top:bottom, left:right]
        # Flat fill with the region's mean colour: pixelation or a moderate blur can leave a face
        # recognisable (or re-identifiable by a model); a flat patch cannot, and still shows where a person was.
        region[:] = region.reshape(-1, 3).mean(axis=0).astype(np.uint8)
    return out


def _encode_jpeg(image: ImageBGR) -> bytes:
    ok, data = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, 90])
    if not ok:
        raise RuntimeError("JPEG encoding failed")
    return bytes(data.tobytes())


def _thumbnail(small: ImageBGR) -> np.ndarray:
    grey = cv2.cvtColor(cv2.resize(small, (32, 18), interpolation=cv2.INTER_AREA), cv2.COLOR_BGR2GRAY)
    return np.asarray(grey, np.float32)


class ModelRunner:
    def __init__(
        self,
        engine: FaceEngine,
        snapshot: WatchlistSnapshot,
        config: PipelineConfig,
        policy: DecisionPolicy,
        dispatcher: AlertDispatcher,
        *,
        mode: Mode = "evaluation",
    ) -> None:
        snapshot.contract.require_same(engine.contract)
        self.engine = engine
        self.snapshot = snapshot
        self.config = config
        self.policy = policy
        self.dispatcher = dispatcher
        self.mode = mode
        self.cameras: dict[str, CameraState] = {}
        self.stats = RunnerStats()
        self._k = 2 if snapshot.subjects > 1 else 1

    def add_camera(self, source_id: str) -> CameraState:
        camera = CameraState(source_id, FaceTracker(self.config.tracker()))
        self.cameras[source_id] = camera
        return camera

    def end_camera(self, source_id: str) -> None:
        camera = self.cameras[source_id]
        self._end_tracks(camera, camera.tracker.end_all())

    @property
    def tracks_started(self) -> int:
        return sum(c.tracker.tracks_started for c in self.cameras.values())

    def process(self, batch: list[PreparedFrame]) -> None:
        """One round: one frame from each camera that had one ready."""
        requests: list[_Request] = []
        for prepared in batch:
            requests.extend(self._frame(prepared))
        if requests:
            self._embed_and_decide(requests)
        done = time.monotonic()
        for prepared in batch:
            self.stats.frame_latency_ms.append((done - prepared.frame.captured_at) * 1e3)

    def _frame(self, prepared: PreparedFrame) -> list[_Request]:
        stages = self.stats.stages_ms
        stages["decode"].append(prepared.decode_ms)
        stages["resize"].append(prepared.resize_ms)
        camera = self.cameras[prepared.frame.source_id]
        image = prepared.frame.image
        started = time.perf_counter()
        detections = self.engine.detector.detect(prepared.small)
        if prepared.scale != 1.0:
            detections = detections.scaled(prepared.scale)
        detected = time.perf_counter()
        camera.frames += 1
        camera.faces += len(detections)
        if self._scene_changed(camera, prepared.small):
            camera.scene_cuts += 1
            self._end_tracks(camera, camera.tracker.end_all())
        update = camera.tracker.update(detections)
        self._end_tracks(camera, update.ended)
        tracked = time.perf_counter()
        requests: list[_Request] = []
        for i in range(len(detections)):
            track_id = int(update.track_ids[i])
            if track_id < 0 or not update.confirmed[i]:
                continue
            evidence = camera.tracks.get(track_id)
            if evidence is None:
                evidence = camera.tracks[track_id] = TrackEvidence(track_id, self.config.keep_faces)
            evidence.faces_seen += 1
            if evidence.alerted:
                continue  # one alert per track: nothing more to learn from this person's pass
            aligned = align_faces(image, detections.landmarks[i : i + 1])[0]
            quality = measure_face(
                image.shape, detections.boxes[i], detections.landmarks[i], float(detections.scores[i]), aligned
            )
            if gate_face(quality, self.config.match_quality):
                continue
            rank = quality_rank(quality)
            if evidence.wants(rank, self.config.improvement, self.policy.min_evidence):
                requests.append(_Request(camera, prepared, detections, i, track_id, rank, aligned))
        selected = time.perf_counter()
        stages["detect"].append((detected - started) * 1e3)
        stages["track"].append((tracked - detected) * 1e3)
        stages["select"].append((selected - tracked) * 1e3)
        return requests

    def _scene_changed(self, camera: CameraState, small: ImageBGR) -> bool:
        # A cut changes most of the picture at once; people walking change a small part of it. A 32×18 grey
        # thumbnail averages away motion inside the scene (edited video: ~27 at cuts, < 13 within shots).
        thumbnail = _thumbnail(small)
        previous, camera.previous_thumbnail = camera.previous_thumbnail, thumbnail
        if previous is None:
            return False
        return float(np.abs(thumbnail - previous).mean()) > self.config.scene_cut

    def _embed_and_decide(self, requests: list[_Request]) -> None:
        started = time.perf_counter()
        vectors = self.engine.embedder.embed_aligned(np.stack([r.aligned for r in requests]))
        embedded = time.perf_counter()
        hits = self.snapshot.search(vectors, self._k)
        touched: dict[tuple[str, int], _Request] = {}
        for request, vector, face_hits in zip(requests, vectors, hits, strict=True):
            camera = request.camera
            evidence = camera.tracks[request.track_id]
            frame = request.prepared.frame
            sample = FaceSample(
                rank=request.rank,
                vector=vector,
                crop=crop_face(frame.image, request.detections.boxes[request.index]),
                frame_index=frame.index,
                captured_at=frame.captured_at,
                media_time_s=frame.media_time_s,
                hits=face_hits,
            )
            evidence.add(sample, self.policy.threshold)
            camera.embedded += 1
            touched[(camera.source_id, request.track_id)] = request
        for request in touched.values():
            self._judge(request)
        self.stats.stages_ms["embed"].append((embedded - started) * 1e3)
        self.stats.stages_ms["match"].append((time.perf_counter() - embedded) * 1e3)

    def _judge(self, request: _Request) -> None:
        camera = request.camera
        evidence = camera.tracks[request.track_id]
        fused = evidence.fused()
        (fused_hits,) = self.snapshot.search(fused[None, :], self._k)
        candidate = candidate_from(fused_hits, evidence.votes)
        now = request.prepared.frame.media_time_s
        decision = decide(
            candidate,
            self.policy,
            alerted_subjects=frozenset(evidence.alerted),
            last_alert_at=camera.last_alert_at,
            now=now,
        )
        self.stats.outcomes[decision.outcome] = self.stats.outcomes.get(decision.outcome, 0) + 1
        if decision.alert and decision.candidate is not None:
            self._alert(request, evidence, fused, decision)
            camera.last_alert_at[decision.candidate.subject_id] = now
        elif decision.outcome is Outcome.COOLDOWN and decision.candidate is not None:
            # The person was already alerted on this camera moments ago: treat the track as settled.
            evidence.alerted.add(decision.candidate.subject_id)

    def _alert(self, request: _Request, evidence: TrackEvidence, fused: FloatArray, decision: Decision) -> None:
        candidate = decision.candidate
        assert candidate is not None
        camera = request.camera
        frame = request.prepared.frame
        decided_mono = time.monotonic()
        decided_wall = time.time()
        best = evidence.best_sample()
        context = None
        if self.config.context_frames:
            context = _encode_jpeg(blur_faces_except(frame.image, request.detections.boxes, request.index))
        event = AlertEvent(
            alert_id=uuid.uuid4().hex,
            mode=self.mode,
            source=camera.source_id,
            track_id=request.track_id,
            subject_id=candidate.subject_id,
            score=candidate.score,
            second_score=candidate.second_score,
            evidence=candidate.evidence,
            threshold=self.policy.threshold,
            frame_index=frame.index,
            frame_time_s=frame.media_time_s,
            frame_wall_time=decided_wall - (decided_mono - frame.captured_at),
            decided_at=decided_wall,
            latency_ms=(decided_mono - frame.captured_at) * 1e3,
            model=self.snapshot.contract.model,
            reference_image=self.snapshot.reference_for(candidate.subject_id, fused),
            probe_jpeg=_encode_jpeg(best.crop),
            context_jpeg=context,
        )
        evidence.alerted.add(candidate.subject_id)
        camera.alerts += 1
        self.stats.alert_latency_ms.append(event.latency_ms)
        self.dispatcher.publish(event)

    def _end_tracks(self, camera: CameraState, ended: tuple[int, ...]) -> None:
        for track_id in ended:
            evidence = camera.tracks.pop(track_id, None)
            if evidence is not None:
                evidence.discard()
