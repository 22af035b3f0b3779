"""The model runner: tracking, face selection, embedding (batched across cameras), matching and decisions, for
every camera of the process, on one thread with shared models (faces were detected on the camera's thread).

Per frame: track the detections. Per confirmed track: skip a face whose best possible rank cannot beat the
faces the track holds or waits with (``rank_ceiling``); otherwise align it on the full-resolution frame, measure
its quality and let it wait for an embedding if the track wants it (``schedule.wants``). Each round (one frame
from each camera that has one) embeds at most ``embed_budget`` waiting faces of all cameras in one batch, chosen
so that no track starves (``schedule.pick``); a track that ends keeps its waiting faces until they are embedded
(real-time cameras give up after ``give_up_after_s`` and count the track in ``tracks_unexamined``). A track with
a new face fuses its best faces and is judged by the rules; an alert goes to the alert writer (``alerting.py``).

Privacy: a track's faces and embeddings live in its ``TrackEvidence`` and its wait only, and are discarded when
the track is done (ended and no face waiting); what outlives a track is its counts. Only an alert leaves this
module with images, and, when a ``views`` callback is given (the live camera wall), each processed frame as a
``CameraView`` held in memory, whose faces ``openlfr.service.wall`` blanks before it is shown. On a camera with
a zone, faces outside it are dropped before the tracker: never tracked, aligned or embedded.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

import cv2
import numpy as np
import numpy.typing as npt

from openlfr.alerts.event import AlertEvent, Mode
from openlfr.alerts.rules import Decision, DecisionPolicy, Outcome, decide
from openlfr.alerts.state import FaceSample, TrackEvidence, candidate_from, quality_rank, rank_ceiling
from openlfr.embed.align import align_faces
from openlfr.engine import FaceEngine
from openlfr.match.index import SearchHit
from openlfr.pipeline.alerting import AlertContext, AlertWriter, crop_face
from openlfr.pipeline.camera import PreparedFrame
from openlfr.pipeline.config import PipelineConfig
from openlfr.pipeline.gallery import WatchlistSnapshot
from openlfr.pipeline.latency import LatencyHistogram
from openlfr.pipeline.schedule import Pick, TrackWait, Waiting, WaitingFace, offer, pick, wants
from openlfr.pipeline.view import CameraView
from openlfr.quality.gate import gate_face
from openlfr.quality.metrics import measure_face
from openlfr.track.tracker import FaceTracker
from openlfr.types import FaceDetections, FloatArray, ImageBGR
from openlfr.zone import Zone

log = logging.getLogger(__name__)

STAGES = ("decode", "resize", "detect", "track", "select", "embed", "match")
_TIMING_WINDOW = 20_000  # recent samples per stage: bounded memory on a camera that runs for weeks


@dataclass(slots=True)
class CameraState:
    source_id: str
    tracker: FaceTracker
    realtime: bool = False
    """frames are dropped when the models fall behind (a live camera): waiting for an embedding has a deadline"""
    zone: Zone | None = None
    """the part of the view recognition runs in: faces whose box centre is outside are dropped before tracking"""
    tracks: dict[int, TrackEvidence] = field(default_factory=dict)
    """tracks in view"""
    ended: dict[int, TrackEvidence] = field(default_factory=dict)
    """tracks that ended with faces still waiting for an embedding"""
    waits: dict[int, TrackWait] = field(default_factory=dict)
    """per track (in view or ended): the faces waiting for an embedding"""
    last_alert_at: dict[str, float] = field(default_factory=dict)
    """subject → media time of the last alert on this camera (the cooldown clock)"""
    previous_thumbnail: np.ndarray | None = None
    last_media_time_s: float = float("-inf")
    frames: int = 0
    faces: int = 0
    embedded: int = 0
    alerts: int = 0
    scene_cuts: int = 0
    tracks_unexamined: int = 0
    """tracks with a usable face that ended without any embedding (given up by a real-time camera, or stopped)"""
    latency: LatencyHistogram = field(default_factory=LatencyHistogram)
    """capture → decision of this camera's frames since the start (its status; fixed size)"""

    def evidence(self, track_id: int) -> TrackEvidence:
        return self.tracks.get(track_id) or self.ended[track_id]


@dataclass(frozen=True, slots=True)
class Judgement:
    """What one judgement of a track saw (for ``lfr eval scenarios``, which replays the rules at other
    thresholds): the top subject and score of each face embedded since the track's last judgement, and the
    fused probe's top subjects. Subject ids and scores only: no face, no vector."""

    source_id: str
    track_id: int
    media_time_s: float
    faces: tuple[SearchHit, ...]
    fused: tuple[SearchHit, ...]


@dataclass(slots=True)
class RunnerStats:
    stages_ms: dict[str, deque[float]] = field(
        default_factory=lambda: {s: deque(maxlen=_TIMING_WINDOW) for s in STAGES}
    )
    frame_latency_ms: deque[float] = field(default_factory=lambda: deque(maxlen=_TIMING_WINDOW))
    alert_latency_ms: deque[float] = field(default_factory=lambda: deque(maxlen=_TIMING_WINDOW))
    """the most recent alerts' latencies (a run summary's percentiles): bounded like the stage timings"""
    outcomes: dict[str, int] = field(default_factory=dict)
    frame_latency: LatencyHistogram = field(default_factory=LatencyHistogram)
    """capture → decision of every frame since the start (for /metrics)"""
    alert_latency: LatencyHistogram = field(default_factory=LatencyHistogram)
    """capture of the decisive frame → decision, every alert since the start (for /metrics)"""


def _in_zone(zone: Zone | None, detections: FaceDetections, width: int, height: int) -> npt.NDArray[np.intp]:
    if zone is None:
        return np.arange(len(detections), dtype=np.intp)
    return zone.keeps(detections, width, height)


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
        clock: Callable[[], float] = time.monotonic,
        observer: Callable[[Judgement], None] | None = None,
        views: Callable[[CameraView], None] | None = None,
    ) -> None:
        """``clock``: the deadline clock of real-time cameras (``give_up_after_s``); injected by tests.
        ``observer``: told every judgement (evaluation only). ``views``: told every processed frame with its
        faces, tracks and alerted matches (the live camera wall; called on this thread: it must be quick)."""
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
        self._clock = clock
        self._observer = observer
        self._views = views
        self._round = 0

    def use_snapshot(self, snapshot: WatchlistSnapshot) -> None:
        """Search ``snapshot`` from the next face on (a subject erased while the pipeline runs). Called from any
        thread: a round already under way may still finish on the old one; the alert dispatcher drops what
        it decides about a forgotten subject."""
        snapshot.contract.require_same(self.engine.contract)
        self.snapshot, self._k = snapshot, (2 if snapshot.subjects > 1 else 1)

    def add_camera(self, source_id: str, *, realtime: bool = False, zone: Zone | None = None) -> CameraState:
        camera = CameraState(source_id, FaceTracker(self.config.tracker()), realtime=realtime, zone=zone)
        self.cameras[source_id] = camera
        return camera

    def end_camera(self, source_id: str) -> None:
        """The camera's source ended: its tracks end (their waiting faces are still embedded in later rounds)."""
        camera = self.cameras[source_id]
        self._end_tracks(camera, camera.tracker.end_all())

    @property
    def tracks_started(self) -> int:
        return sum(c.tracker.tracks_started for c in self.cameras.values())

    @property
    def tracks_unexamined(self) -> int:
        return sum(c.tracks_unexamined for c in self.cameras.values())

    @property
    def waiting(self) -> bool:
        """Whether a face waits for an embedding (``process([])`` then makes progress without a new frame)."""
        return any(w.faces for c in self.cameras.values() for w in c.waits.values())

    def process(self, batch: list[PreparedFrame]) -> None:
        """One round: one frame from each camera that had one ready (none: only embed waiting faces)."""
        self._round += 1
        tracks = [self._frame(prepared) for prepared in batch]
        self._give_up_overdue()
        picks = self._pick()
        if picks:
            self._embed_and_decide(picks)
        if self._views is not None:
            for prepared, track_of in zip(batch, tracks, strict=True):
                self._views(self._view(prepared, track_of))
        self._retire_ended()
        done = time.monotonic()
        for prepared in batch:
            latency_s = done - prepared.frame.captured_at
            self.stats.frame_latency_ms.append(latency_s * 1e3)
            self.stats.frame_latency.observe(latency_s)
            self.cameras[prepared.frame.source_id].latency.observe(latency_s)

    def abandon(self) -> None:
        """The run stops (stop signal, or a failure): every waiting face is given up, every track forgotten."""
        for camera in self.cameras.values():
            self._end_tracks(camera, camera.tracker.end_all())
            for track_id in list(camera.waits):
                self._give_up(camera, track_id)

    def _pick(self) -> list[Pick]:
        cameras = list(self.cameras.values())
        tracks = [
            Waiting(
                camera.source_id, (position - self._round) % len(cameras), track_id, camera.evidence(track_id), wait
            )
            for position, camera in enumerate(cameras)
            for track_id, wait in camera.waits.items()
        ]
        picks = pick(tracks, self.config.embed_budget, self.policy.min_evidence)
        for chosen in picks:
            wait = self.cameras[chosen.source_id].waits[chosen.track_id]
            wait.faces.remove(chosen.face)
            wait.since = self._round  # served: its remaining faces queue behind tracks waiting longer
        return picks

    def _give_up_overdue(self) -> None:
        """Real-time cameras: tracks that ended ``give_up_after_s`` ago and still wait are given up."""
        now = self._clock()
        limit = self.config.give_up_after_s
        for camera in self.cameras.values():
            if not camera.realtime:
                continue
            for track_id, wait in list(camera.waits.items()):
                if wait.ended_at is not None and now - wait.ended_at >= limit:
                    self._give_up(camera, track_id)

    def _give_up(self, camera: CameraState, track_id: int) -> None:
        wait = camera.waits.pop(track_id)
        evidence = camera.tracks.pop(track_id, None) or camera.ended.pop(track_id)
        if evidence.embedded == 0 and wait.faces:
            camera.tracks_unexamined += 1
            log.debug("camera %s: a track ended unexamined", camera.source_id)
        wait.faces.clear()
        evidence.discard()

    def _retire_ended(self) -> None:
        """Ended tracks with nothing left waiting are done: forget them."""
        for camera in self.cameras.values():
            for track_id in [t for t in camera.ended if not camera.waits.get(t, TrackWait()).faces]:
                camera.waits.pop(track_id, None)
                camera.ended.pop(track_id).discard()

    def _view(self, prepared: PreparedFrame, track_of: npt.NDArray[np.int64]) -> CameraView:
        camera = self.cameras[prepared.frame.source_id]
        alerted: list[str | None] = []
        for track_id in track_of.tolist():
            evidence = camera.tracks.get(track_id) or camera.ended.get(track_id) if track_id >= 0 else None
            alerted.append(min(evidence.alerted) if evidence is not None and evidence.alerted else None)
        frame = prepared.frame
        boxes = prepared.detections.boxes
        return CameraView(frame.source_id, frame.index, frame.image, boxes, tuple(track_of.tolist()), tuple(alerted))

    def _frame(self, prepared: PreparedFrame) -> npt.NDArray[np.int64]:
        """Track and select the frame's faces; returns each detection's confirmed track id (-1: none)."""
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
        # Indices into ``detections`` of the faces in the camera's zone: the others are never tracked nor
        # embedded. The indices stay those of the frame's detections (an alert's context frame blurs them all).
        kept = _in_zone(camera.zone, detections, image.shape[1], image.shape[0])
        camera.faces += len(kept)
        if self._scene_changed(camera, prepared.small):
            camera.scene_cuts += 1
            self._end_tracks(camera, camera.tracker.end_all())
        update = camera.tracker.update(detections if camera.zone is None else detections[kept])
        self._end_tracks(camera, update.ended)
        tracked = time.perf_counter()
        track_of = np.full(len(detections), -1, np.int64)
        for position, index in enumerate(kept):
            i = int(index)
            track_id = int(update.track_ids[position])
            if track_id < 0 or not update.confirmed[position]:
                continue
            track_of[i] = track_id
            self._consider(camera, prepared, i, track_id)
        selected = time.perf_counter()
        stages["track"].append((tracked - started) * 1e3)
        stages["select"].append((selected - tracked) * 1e3)
        return track_of

    def _consider(self, camera: CameraState, prepared: PreparedFrame, i: int, track_id: int) -> None:
        """Face ``i`` of the frame, on a confirmed track: offer it for an embedding if the track wants it."""
        detections, image = prepared.detections, prepared.frame.image
        evidence = camera.tracks.get(track_id)
        if evidence is None:
            evidence = camera.tracks[track_id] = TrackEvidence(track_id, self.config.keep_faces)
        evidence.faces_seen += 1
        if evidence.alerted:
            return  # one alert per track: nothing more to learn from this person's pass
        wait = camera.waits.get(track_id)
        need, better = self.policy.min_evidence, self.config.improvement
        ceiling = rank_ceiling(float(detections.scores[i]), detections.landmarks[i])
        if not wants(evidence, wait, ceiling, min_evidence=need, improvement=better):
            return  # could not beat the track's faces even if perfectly sharp: skip aligning it
        aligned = align_faces(image, detections.landmarks[i : i + 1])[0]
        quality = measure_face(
            image.shape, detections.boxes[i], detections.landmarks[i], float(detections.scores[i]), aligned
        )
        if gate_face(quality, self.config.match_quality):
            return
        rank = quality_rank(quality)
        if wants(evidence, wait, rank, min_evidence=need, improvement=better):
            if wait is None:
                wait = camera.waits[track_id] = TrackWait()
            if not wait.faces:
                wait.since = self._round  # its wait begins now
            offer(wait, WaitingFace(rank, aligned, prepared, i), capacity=self.policy.min_evidence)

    def _scene_changed(self, camera: CameraState, small: ImageBGR) -> bool:
        # A cut changes most of the picture at once; people walking change a small part of it. A 32×18 grey
        # thumbnail averages away motion inside the scene (edited video: ~27 at cuts, < 13 within shots).
        thumbnail = _thumbnail(small)
        previous, camera.previous_thumbnail = camera.previous_thumbnail, thumbnail
        if previous is None:
            return False
        return float(np.abs(thumbnail - previous).mean()) > self.config.scene_cut

    def _embed_and_decide(self, picks: list[Pick]) -> None:
        started = time.perf_counter()
        vectors = self.engine.embedder.embed_aligned(np.stack([p.face.aligned for p in picks]))
        embedded = time.perf_counter()
        hits = self.snapshot.search(vectors, self._k)
        touched: dict[tuple[str, int], tuple[Pick, list[SearchHit]]] = {}
        for chosen, vector, face_hits in zip(picks, vectors, hits, strict=True):
            camera = self.cameras[chosen.source_id]
            evidence = camera.evidence(chosen.track_id)
            face = chosen.face
            frame = face.prepared.frame
            sample = FaceSample(
                rank=face.rank,
                vector=vector,
                crop=crop_face(frame.image, face.prepared.detections.boxes[face.index]),
                frame_index=frame.index,
                captured_at=frame.captured_at,
                media_time_s=frame.media_time_s,
                hits=face_hits,
            )
            evidence.add(sample, self.policy.threshold)
            camera.embedded += 1
            _, tops = touched.setdefault((camera.source_id, chosen.track_id), (chosen, []))
            touched[(camera.source_id, chosen.track_id)] = (chosen, [*tops, *face_hits[:1]])
        for chosen, tops in touched.values():
            self._judge(chosen, tops)
        self.stats.stages_ms["embed"].append((embedded - started) * 1e3)
        self.stats.stages_ms["match"].append((time.perf_counter() - embedded) * 1e3)

    def _judge(self, chosen: Pick, tops: list[SearchHit]) -> None:
        camera = self.cameras[chosen.source_id]
        evidence = camera.evidence(chosen.track_id)
        fused = evidence.fused(self.config.fusion)
        (fused_hits,) = self.snapshot.search(fused[None, :], self._k)
        candidate = candidate_from(fused_hits, evidence.votes)
        now = chosen.face.prepared.frame.media_time_s
        if self._observer is not None:
            self._observer(Judgement(camera.source_id, chosen.track_id, now, tuple(tops), tuple(fused_hits)))
        decision = decide(
            candidate,
            self.policy,
            alerted_subjects=frozenset(evidence.alerted),
            last_alert_at=camera.last_alert_at,
            now=now,
        )
        self.stats.outcomes[decision.outcome] = self.stats.outcomes.get(decision.outcome, 0) + 1
        if decision.alert and decision.candidate is not None:
            self._alert(chosen, evidence, fused, decision)
            camera.last_alert_at[decision.candidate.subject_id] = now
        elif decision.outcome is Outcome.COOLDOWN and decision.candidate is not None:
            # The person was already alerted on this camera moments ago: treat the track as settled.
            evidence.alerted.add(decision.candidate.subject_id)
        if evidence.alerted and chosen.track_id in camera.waits:
            camera.waits[chosen.track_id].faces.clear()  # settled: nothing more to learn from this pass

    def _alert(self, chosen: Pick, evidence: TrackEvidence, fused: FloatArray, decision: Decision) -> None:
        candidate = decision.candidate
        assert candidate is not None
        camera = self.cameras[chosen.source_id]
        prepared = chosen.face.prepared
        frame = prepared.frame
        decided_mono = time.monotonic()
        decided_wall = time.time()
        event = AlertEvent(
            alert_id=uuid.uuid4().hex,
            mode=self.mode,
            source=camera.source_id,
            track_id=chosen.track_id,
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
            AlertContext(frame.image, prepared.detections.boxes, chosen.face.index)
            if self.config.context_frames
            else None
        )
        evidence.alerted.add(candidate.subject_id)
        camera.alerts += 1
        self.stats.alert_latency_ms.append(event.latency_ms)
        self.stats.alert_latency.observe(event.latency_ms / 1e3)
        self.alerts.submit(event, evidence.best_sample().crop, context)

    def _end_tracks(self, camera: CameraState, ended: tuple[int, ...]) -> None:
        """Tracks that left the view: done, unless faces of theirs still wait for an embedding."""
        for track_id in ended:
            evidence = camera.tracks.pop(track_id, None)
            if evidence is None:
                continue
            wait = camera.waits.get(track_id)
            if wait is not None and wait.faces and not evidence.alerted:
                wait.ended_at = self._clock()
                camera.ended[track_id] = evidence
                continue
            camera.waits.pop(track_id, None)
            evidence.discard()
