"""The model runner: tracking, face selection, embedding (batched across cameras), matching and decisions, for
every camera of the process, on one thread with shared models (faces were detected on the camera's thread).

Per frame: track the detections. Per confirmed track: skip a face whose best possible rank cannot beat the
faces the track holds (``rank_ceiling``); otherwise align it on the full-resolution frame, measure its quality
and keep it as a candidate if it is better (``TrackEvidence.wants``). The candidates of one round (one frame
from each camera that has one) are embedded in one batch, at most ``embed_budget`` of them, tracks short of
evidence first. A track with a new face fuses its best faces and is judged by the rules; an alert goes to the
alert writer (``alerting.py``).

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

from openlfr.alerts.event import AlertEvent, Mode
from openlfr.alerts.rules import Decision, DecisionPolicy, Outcome, decide
from openlfr.alerts.state import FaceSample, TrackEvidence, candidate_from, quality_rank, rank_ceiling
from openlfr.embed.align import align_faces
from openlfr.engine import FaceEngine
from openlfr.pipeline.alerting import AlertContext, AlertWriter, crop_face
from openlfr.pipeline.camera import PreparedFrame
from openlfr.pipeline.config import PipelineConfig
from openlfr.pipeline.gallery import WatchlistSnapshot
from openlfr.pipeline.latency import LatencyHistogram
from openlfr.quality.gate import gate_face
from openlfr.quality.metrics import measure_face
from openlfr.track.tracker import FaceTracker
from openlfr.types import FaceDetections, FloatArray, ImageBGR

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
    last_media_time_s: float = float("-inf")
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
    frame_latency: LatencyHistogram = field(default_factory=LatencyHistogram)
    """capture → decision of every frame since the start (for /metrics)"""
    alert_latency: LatencyHistogram = field(default_factory=LatencyHistogram)
    """capture of the decisive frame → decision, every alert since the start (for /metrics)"""


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
        alerts: AlertWriter,
        *,
        mode: Mode = "evaluation",
    ) -> None:
        snapshot.contract.require_same(engine.contract)
        self.engine = engine
        self.snapshot = snapshot
        self.config = config
        self.policy = policy
        self.alerts = alerts
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
            self._embed_and_decide(self._within_budget(requests))
        done = time.monotonic()
        for prepared in batch:
            self.stats.frame_latency_ms.append((done - prepared.frame.captured_at) * 1e3)
            self.stats.frame_latency.observe(done - prepared.frame.captured_at)

    def _within_budget(self, requests: list[_Request]) -> list[_Request]:
        """At most ``embed_budget`` faces: tracks still short of ``min_evidence`` faces first (they cannot
        alert at all before), then the best faces. A face left out costs nothing: its track is asked again on
        its next frame. Everyone walking into view at once (a camera starting on a crowd) would otherwise
        mean one long embedding call while the cameras' queues overflow."""
        budget = self.config.embed_budget
        if len(requests) <= budget:
            return requests
        needed = self.policy.min_evidence

        def neediest_first(r: _Request) -> tuple[int, float]:
            return min(len(r.camera.tracks[r.track_id].samples), needed), -r.rank

        return sorted(requests, key=neediest_first)[:budget]

    def _frame(self, prepared: PreparedFrame) -> list[_Request]:
        stages = self.stats.stages_ms
        stages["decode"].append(prepared.decode_ms)
        stages["resize"].append(prepared.resize_ms)
        stages["detect"].append(prepared.detect_ms)
        camera = self.cameras[prepared.frame.source_id]
        image = prepared.frame.image
        detections = prepared.detections  # found on the camera's thread (camera.py)
        started = time.perf_counter()
        camera.frames += 1
        if prepared.frame.media_time_s < camera.last_media_time_s:
            # The media clock restarted (a looping file): each pass is a new encounter, so the cooldowns of
            # the last pass, measured on the old clock, no longer apply.
            camera.last_alert_at.clear()
        camera.last_media_time_s = prepared.frame.media_time_s
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
            ceiling = rank_ceiling(float(detections.scores[i]), detections.landmarks[i])
            if not evidence.wants(ceiling, self.config.improvement, self.policy.min_evidence):
                continue  # could not beat the track's best face even if perfectly sharp: skip aligning it
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
        stages["track"].append((tracked - started) * 1e3)
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
            probe_jpeg=b"",  # encoded by the alert writer, off this thread
        )
        context = (
            AlertContext(frame.image, request.detections.boxes, request.index) if self.config.context_frames else None
        )
        evidence.alerted.add(candidate.subject_id)
        camera.alerts += 1
        self.stats.alert_latency_ms.append(event.latency_ms)
        self.stats.alert_latency.observe(event.latency_ms / 1e3)
        self.alerts.submit(event, evidence.best_sample().crop, context)

    def _end_tracks(self, camera: CameraState, ended: tuple[int, ...]) -> None:
        for track_id in ended:
            evidence = camera.tracks.pop(track_id, None)
            if evidence is not None:
                evidence.discard()
