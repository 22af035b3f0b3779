"""The pipeline end to end with the fake detector and embedder: rules, tracks, cameras, privacy, shutdown."""

from __future__ import annotations

import os
import threading
from datetime import UTC, datetime
from pathlib import Path

import cv2
import numpy as np
import pytest
from tests.helpers.waiting import GENEROUS_S, wait_until
from tests.pipeline.conftest import FACE, ListSource, fake_watchlist, scene

from openlfr.alerts.dispatch import AlertDispatcher
from openlfr.alerts.event import AlertEvent
from openlfr.alerts.sinks import AlertBus
from openlfr.alerts.state import TrackEvidence
from openlfr.alerts.store import FileAlertStore
from openlfr.config.models import EngineConfig, FakeDetectorConfig, Settings, YuNetConfig
from openlfr.detect.base import FaceDetector
from openlfr.detect.fake import FakeDetector
from openlfr.engine import FaceEngine
from openlfr.errors import AlertStoreError, ConfigError, ModelLoadError
from openlfr.pipeline.alerting import AlertContext, blur_faces_except, context_jpeg, matched_scene
from openlfr.pipeline.app import WatchPipeline, pipeline_settings
from openlfr.pipeline.camera import CameraReader, PreparedFrame, prepare
from openlfr.pipeline.config import PipelineConfig
from openlfr.pipeline.thresholds import default_threshold
from openlfr.sources.mandate import RecognitionMandate, RecognitionNotAuthorisedError
from openlfr.types import FaceDetections
from openlfr.zone import Zone

# The fake embedder's scores are ≥ 0.99 for the same texture and ≤ 0.97 across textures.
CONFIG = PipelineConfig(threshold=0.99, margin=0.005)


def walk(seed: int, frames: int, *, start_x: int = 10, y: int = 60, step: int = 4) -> list[tuple[int, int, int]]:
    return [(seed, start_x + step * i, y) for i in range(frames)]


def run(
    engine: FaceEngine,
    sources: list[ListSource],
    store_dir: Path,
    config: PipelineConfig = CONFIG,
    seeds: tuple[int, ...] = (0, 1),
    stop: threading.Event | None = None,
) -> tuple[list[dict[str, object]], WatchPipeline]:
    bus = AlertBus()
    received = bus.subscribe()
    store = FileAlertStore(store_dir)
    pipeline = WatchPipeline(engine, fake_watchlist(engine, seeds), sources, AlertDispatcher(store, [bus]), config)
    summary = pipeline.run(stop)
    records = []
    while not received.empty():
        records.append(received.get_nowait())
    assert summary.alerts == len(records)
    return records, pipeline


def test_one_alert_for_the_listed_person_none_for_the_other(fake_engine: FaceEngine, tmp_path: Path) -> None:
    listed = walk(0, 20)
    passer_by = walk(3, 20, y=170)
    images = [scene([a, b]) for a, b in zip(listed, passer_by, strict=True)]
    records, pipeline = run(fake_engine, [ListSource("cam", images)], tmp_path)
    assert [r["subject_id"] for r in records] == ["s0"]
    record = records[0]
    assert record["source"] == "cam" and record["mode"] == "evaluation"
    assert record["evidence"] == 2 and float(str(record["score"])) >= 0.99
    assert record["reference_image"] == "ref/s0.png"
    assert Path(str(record["probe_image"])).is_file() and Path(str(record["context_image"])).is_file()
    assert int(str(record["frame_index"])) >= 2  # never on the first sighting
    assert float(str(record["latency_ms"])) >= 0
    assert FileAlertStore(tmp_path).records()[0]["alert_id"] == record["alert_id"]
    # Embedding only when a better face arrives: far fewer embeddings than faces.
    camera = pipeline.runner.cameras["cam"]
    assert camera.faces == 40 and camera.embedded < 10


def test_a_face_seen_in_one_frame_never_alerts(fake_engine: FaceEngine, tmp_path: Path) -> None:
    images = [scene([]), scene([(0, 100, 80)]), scene([]), scene([])]
    records, _ = run(fake_engine, [ListSource("cam", images)], tmp_path)
    assert records == []


def test_cooldown_per_camera_and_subject(fake_engine: FaceEngine, tmp_path: Path) -> None:
    # The listed person passes, is gone for longer than a track lives, and passes again 2 s later.
    gap = [scene([])] * (CONFIG.tracker_max_age + 5)
    images = [scene([f]) for f in walk(0, 10)] + gap + [scene([f]) for f in walk(0, 10)]
    records, pipeline = run(fake_engine, [ListSource("cam", images)], tmp_path / "a")
    assert len(records) == 1
    assert pipeline.runner.tracks_started == 2
    no_cooldown = CONFIG.model_copy(update={"cooldown_s": 0.0})
    records, _ = run(fake_engine, [ListSource("cam", images)], tmp_path / "b", no_cooldown)
    assert len(records) == 2
    assert records[0]["track_id"] != records[1]["track_id"]


def test_cameras_share_the_models_and_batch_embeddings(fake_engine: FaceEngine, tmp_path: Path) -> None:
    cam1 = ListSource("cam1", [scene([f]) for f in walk(0, 12)])
    cam2 = ListSource("cam2", [scene([f]) for f in walk(1, 12)])
    records, _ = run(fake_engine, [cam1, cam2], tmp_path)
    assert sorted((str(r["source"]), str(r["subject_id"])) for r in records) == [("cam1", "s0"), ("cam2", "s1")]


class _FullDisk(FileAlertStore):
    def append(self, event: AlertEvent) -> dict[str, object]:
        raise OSError("No space left on device")


def test_an_alert_that_cannot_be_stored_stops_the_pipeline(fake_engine: FaceEngine, tmp_path: Path) -> None:
    images = [scene([f]) for f in walk(0, 40)]
    pipeline = WatchPipeline(
        fake_engine,
        fake_watchlist(fake_engine, (0,)),
        [ListSource("cam", images)],
        AlertDispatcher(_FullDisk(tmp_path), []),
        CONFIG,
    )
    with pytest.raises(AlertStoreError, match="No space left on device"):
        pipeline.run()
    assert not any(t.name in ("camera-cam", "lfr-alert-writer") for t in threading.enumerate())


def test_alerts_are_written_off_the_model_thread(fake_engine: FaceEngine, tmp_path: Path) -> None:
    writers: list[str] = []

    class RecordingStore(FileAlertStore):
        def append(self, event: AlertEvent) -> dict[str, object]:
            writers.append(threading.current_thread().name)
            return super().append(event)

    images = [scene([f]) for f in walk(0, 20)]
    dispatcher = AlertDispatcher(RecordingStore(tmp_path), [])
    pipeline = WatchPipeline(
        fake_engine, fake_watchlist(fake_engine, (0,)), [ListSource("cam", images)], dispatcher, CONFIG
    )
    summary = pipeline.run()
    assert summary.alerts == 1 and writers == ["lfr-alert-writer"]
    assert len(FileAlertStore(tmp_path).records()) == 1  # written before run() returned


class _BrokenDetector:
    """Works for ``good`` calls, then raises (as a runtime failing to compile a new frame size would)."""

    name = "broken"

    def __init__(self, inner: FaceDetector, good: int) -> None:
        self.inner, self.good, self.calls = inner, good, 0

    def detect(self, image: np.ndarray) -> FaceDetections:
        self.calls += 1
        if self.calls > self.good:
            raise ModelLoadError("cannot compile the detector for this frame size")
        return self.inner.detect(image)


def test_a_detector_failure_on_a_camera_thread_stops_the_run(fake_engine: FaceEngine, tmp_path: Path) -> None:
    watchlist = fake_watchlist(fake_engine, (0,))
    fake_engine.detector = _BrokenDetector(fake_engine.detector, good=2 + 5)  # warm-up, then 5 frames
    cameras = [ListSource("cam1", [scene([f]) for f in walk(0, 30)]), ListSource("cam2", [scene([])] * 30)]
    dispatcher = AlertDispatcher(FileAlertStore(tmp_path), [])
    pipeline = WatchPipeline(fake_engine, watchlist, cameras, dispatcher, CONFIG)
    with pytest.raises(ModelLoadError, match="cannot compile"):
        pipeline.run()  # not a quiet "camera ended": the shared model is broken for every camera
    assert not any(t.name.startswith(("camera-", "lfr-alert-writer")) for t in threading.enumerate())


def test_a_failed_warm_up_closes_what_was_opened(fake_engine: FaceEngine, tmp_path: Path) -> None:
    watchlist = fake_watchlist(fake_engine, (0,))
    fake_engine.detector = _BrokenDetector(fake_engine.detector, good=0)
    closed: list[str] = []

    class TrackedSource(ListSource):
        def close(self) -> None:
            closed.append(self.source_id)
            super().close()

    class TrackedStore(FileAlertStore):
        def close(self) -> None:
            closed.append("store")
            super().close()

    cameras = [TrackedSource("cam1", [scene([])]), TrackedSource("cam2", [scene([])])]
    dispatcher = AlertDispatcher(TrackedStore(tmp_path), [])
    pipeline = WatchPipeline(fake_engine, watchlist, cameras, dispatcher, CONFIG)
    with pytest.raises(ModelLoadError):
        pipeline.run()
    assert sorted(closed) == ["cam1", "cam2", "store"]


def record_embedding_batches(engine: FaceEngine) -> list[int]:
    """The sizes of the engine's embedding calls from now on."""
    batches: list[int] = []
    embed = engine.embedder.embed_aligned

    def recording(crops: np.ndarray) -> np.ndarray:
        batches.append(len(crops))
        return embed(crops)

    engine.embedder.embed_aligned = recording  # type: ignore[method-assign]
    return batches


def test_a_round_embeds_the_faces_of_every_camera_in_one_batch(fake_engine: FaceEngine, tmp_path: Path) -> None:
    batches = record_embedding_batches(fake_engine)
    cam1 = ListSource("cam1", [scene([f]) for f in walk(0, 6)])
    cam2 = ListSource("cam2", [scene([f]) for f in walk(1, 6)])
    dispatcher = AlertDispatcher(FileAlertStore(tmp_path), [])
    config = CONFIG.model_copy(update={"embed_budget": 2})  # room for both cameras' faces in one round
    pipeline = WatchPipeline(fake_engine, fake_watchlist(fake_engine, (0, 1)), [cam1, cam2], dispatcher, config)
    pipeline.alert_writer.start()
    try:
        for frame1, frame2 in zip(cam1.frames(), cam2.frames(), strict=True):  # both cameras ready each round
            pipeline.runner.process([prepare(f, fake_engine.detector, 640) for f in (frame1, frame2)])
    finally:
        pipeline.alert_writer.close()
    assert max(batches) == 2  # one face per camera, embedded together


def test_a_crowd_walking_in_is_embedded_within_the_budget_neediest_first(
    fake_engine: FaceEngine, tmp_path: Path
) -> None:
    batches = record_embedding_batches(fake_engine)
    crowd = scene([(0, 10, 20), (1, 120, 20), (2, 10, 150), (3, 120, 150)])  # four people appear at once
    camera = ListSource("cam", [crowd] * 6)
    dispatcher = AlertDispatcher(FileAlertStore(tmp_path), [])
    config = CONFIG.model_copy(update={"embed_budget": 2})
    pipeline = WatchPipeline(fake_engine, fake_watchlist(fake_engine, (5,)), [camera], dispatcher, config)
    tracks = pipeline.runner.cameras["cam"].tracks
    held_after_round: list[list[int]] = []
    pipeline.alert_writer.start()
    try:
        for frame in camera.frames():
            pipeline.runner.process([prepare(frame, fake_engine.detector, 640)])
            held_after_round.append(sorted(len(t.samples) for t in tracks.values()))
    finally:
        pipeline.alert_writer.close()
    assert batches and max(batches) == 2
    # Confirmed on the second frame; then the two tracks with no face yet go before a second face of the others.
    assert held_after_round[1:5] == [[0, 0, 1, 1], [1, 1, 1, 1], [1, 1, 2, 2], [2, 2, 2, 2]]


def test_each_pass_of_a_looping_camera_is_a_new_encounter(fake_engine: FaceEngine, tmp_path: Path) -> None:
    one_pass = [scene([f]) for f in walk(0, 12)] + [scene([])] * 12  # the person walks through, then leaves
    looping = ListSource("cam", one_pass, passes=2)  # media time 0 … 0.96 s, then from 0 again
    records, _ = run(fake_engine, [looping], tmp_path)
    # Both passes alert at about the same media time, well within the 60 s cooldown on that clock.
    assert [r["subject_id"] for r in records] == ["s0", "s0"]


def test_scene_cut_ends_tracks(fake_engine: FaceEngine, tmp_path: Path) -> None:
    # Same place, different person, after a cut to a bright scene and back: never one track.
    bright = np.full_like(scene([]), 150)
    images = [scene([(3, 100, 80)])] * 6 + [bright] + [scene([(0, 100, 80)])] * 6
    records, pipeline = run(fake_engine, [ListSource("cam", images)], tmp_path)
    assert [r["subject_id"] for r in records] == ["s0"]
    assert pipeline.runner.cameras["cam"].scene_cuts >= 1


def test_non_matching_tracks_leave_nothing_behind(
    fake_engine: FaceEngine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    discarded: list[TrackEvidence] = []
    original = TrackEvidence.discard

    def spy(self: TrackEvidence) -> None:
        discarded.append(self)
        original(self)

    monkeypatch.setattr(TrackEvidence, "discard", spy)
    images = [scene([a, b]) for a, b in zip(walk(2, 15), walk(3, 15, y=170), strict=True)]
    records, pipeline = run(fake_engine, [ListSource("cam", images)], tmp_path / "store", seeds=(0, 1))
    assert records == []
    camera = pipeline.runner.cameras["cam"]
    assert camera.tracks == {}  # every track ended with its source
    assert len(discarded) == 2 and all(e.samples == [] and not e.votes for e in discarded)
    assert sum(e.embedded for e in discarded) >= 4  # they were embedded, then forgotten
    assert list((tmp_path / "store").rglob("*")) == []  # no alert, no file


def test_a_live_source_needs_the_mandate_of_a_deployment(fake_engine: FaceEngine, tmp_path: Path) -> None:
    camera = ListSource("gate", [scene([(0, 100, 80)])], endless=True, live=True)
    dispatcher = AlertDispatcher(FileAlertStore(tmp_path), [])
    with pytest.raises(RecognitionNotAuthorisedError, match="live, authorised deployment"):
        WatchPipeline(fake_engine, fake_watchlist(fake_engine, (0,)), [camera], dispatcher, CONFIG)
    with pytest.raises(RecognitionNotAuthorisedError, match="never built by hand"):
        RecognitionMandate("d", 1, "fake", "f", 0.99, (), datetime.now(UTC), datetime.now(UTC), datetime.now(UTC), None)
    camera.close()
    assert list(tmp_path.rglob("*.jsonl")) == []


def test_stop_event_ends_an_endless_camera(fake_engine: FaceEngine, tmp_path: Path) -> None:
    source = ListSource("looping", [scene([(2, 100, 80)])], endless=True, live=False)
    stop = threading.Event()
    # Stop once the camera is demonstrably running (frames flowing), whatever the machine's speed.
    stopper = threading.Thread(target=lambda: source.wait_delivered(10) and stop.set())
    stopper.start()
    run(fake_engine, [source], tmp_path, stop=stop)
    stopper.join()
    assert stop.is_set()
    assert not any(t.name.startswith("camera-") for t in threading.enumerate())


def test_stop_before_start_is_clean(fake_engine: FaceEngine, tmp_path: Path) -> None:
    stop = threading.Event()
    stop.set()
    source = ListSource("cam", [scene([])] * 5)
    pipeline = WatchPipeline(
        fake_engine, fake_watchlist(fake_engine, (0,)), [source], AlertDispatcher(FileAlertStore(tmp_path), []), CONFIG
    )
    summary = pipeline.run(stop)
    assert summary.stopped and summary.alerts == 0


def test_context_frame_blurs_every_other_face() -> None:
    image = scene([(0, 10, 10), (1, 200, 100)])
    boxes = np.array([[10, 10, 10 + FACE, 10 + FACE], [200, 100, 200 + FACE, 100 + FACE]], np.float32)
    out = blur_faces_except(image, boxes, keep=0)
    np.testing.assert_array_equal(out[10 : 10 + FACE, 10 : 10 + FACE], image[10 : 10 + FACE, 10 : 10 + FACE])
    other = out[100 : 100 + FACE, 200 : 200 + FACE].astype(np.float32)
    assert image[100 : 100 + FACE, 200 : 200 + FACE].std() > 20
    assert other.std() == 0  # nothing of the pattern is left
    assert image is not out


def _red(pixels: np.ndarray) -> np.ndarray:
    """Which BGR pixels are clearly red (the box the console's officer looks for)."""
    b, g, r = (pixels[..., i].astype(np.int16) for i in range(3))
    return (r > 150) & (g < 100) & (b < 100)


def test_context_frame_boxes_the_matched_face_and_leaves_it_whole() -> None:
    image = scene([(0, 100, 80), (1, 220, 150)])
    boxes = np.array([[100, 80, 100 + FACE, 80 + FACE], [220, 150, 220 + FACE, 150 + FACE]], np.float32)
    out = matched_scene(image, boxes, keep=0)
    face = (slice(80, 80 + FACE), slice(100, 100 + FACE))
    np.testing.assert_array_equal(out[face], image[face])  # the face itself is not drawn over
    ring = np.zeros(out.shape[:2], bool)
    ring[70 : 90 + FACE, 90 : 110 + FACE] = True
    ring[80 : 80 + FACE, 100 : 100 + FACE] = False
    assert _red(out[ring]).mean() > 0.2  # a red frame around the matched face
    assert not _red(out[~ring]).any()  # and nowhere else
    assert out[150 : 150 + FACE, 220 : 220 + FACE].std() == 0  # the other face is still blanked
    assert not _red(image).any() and image is not out


def test_the_stored_context_frame_shows_the_box() -> None:
    image = scene([(0, 100, 80)])
    boxes = np.array([[100, 80, 100 + FACE, 80 + FACE]], np.float32)
    data = context_jpeg(AlertContext(image=image, boxes=boxes, keep=0))
    stored = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    assert _red(stored).sum() > FACE  # it survives JPEG encoding: the officer sees it in the console


def test_no_default_threshold_for_an_uncalibrated_model(fake_engine: FaceEngine) -> None:
    with pytest.raises(ConfigError, match="no calibrated alert threshold"):
        default_threshold(fake_engine.contract)


def test_live_camera_drops_its_oldest_frames_when_the_models_fall_behind() -> None:
    source = ListSource("live", [scene([])], endless=True)
    reader = CameraReader(source, FakeDetector(FakeDetectorConfig()), max_side=640, queue_size=2)
    reader.start()
    # Nobody consumes: by the time the camera hands out its 10th frame, the reader has queued 9 into 2 places.
    assert source.wait_delivered(10)
    reader.stop()
    assert reader.dropped > 0
    indexes = []
    while not reader.queue.empty():
        item = reader.queue.get_nowait()
        if isinstance(item, PreparedFrame):
            indexes.append(item.frame.index)
    assert indexes == sorted(indexes)
    assert not any(t.name == "camera-live" for t in threading.enumerate())


@pytest.mark.parametrize("drop_when_behind", [False, True])
def test_a_file_played_as_a_camera_drops_late_frames_and_a_plain_file_waits(drop_when_behind: bool) -> None:
    source = ListSource("file", [scene([])] * 50)
    assert not source.live
    reader = CameraReader(
        source, FakeDetector(FakeDetectorConfig()), max_side=640, queue_size=2, drop_when_behind=drop_when_behind
    )
    reader.start()
    if drop_when_behind:  # nobody consumes: a camera never waits, so its reader reaches the end on its own
        assert wait_until(lambda: not reader._thread.is_alive())
    else:  # nobody consumes: the reader fills the queue and then waits for room with the next frame in hand
        assert wait_until(lambda: source.delivered >= 3 and reader.queue.full())
    consumed = []
    while True:
        item = reader.queue.get(timeout=5)
        if not isinstance(item, PreparedFrame):
            break
        consumed.append(item.frame.index)
    reader.stop()
    if drop_when_behind:
        assert reader.dropped > 0 and len(consumed) + reader.dropped == 50
        assert consumed[-1] == 49  # the newest frame survives: a camera overwrites, it does not wait
    else:
        assert reader.dropped == 0 and consumed == list(range(50))


def test_a_camera_never_waits_for_the_models() -> None:
    source = ListSource("file", [scene([])] * 50)
    reader = CameraReader(source, FakeDetector(FakeDetectorConfig()), max_side=640, queue_size=2, drop_when_behind=True)
    reader.start()
    reader._thread.join(GENEROUS_S)  # nobody consumes, yet the reader reaches the end of its source
    assert not reader._thread.is_alive()
    assert reader.dropped == 49 and reader.queue.qsize() == 2  # the newest frame and the end marker


def test_pipeline_settings_use_one_model_thread_unless_configured() -> None:
    default = pipeline_settings(Settings())
    assert (default.engine.detector.threads, default.engine.embedder.threads) == (1, 1)  # type: ignore[union-attr]
    explicit = pipeline_settings(Settings(engine=EngineConfig(detector=YuNetConfig(threads=2, parallel_calls=1))))
    assert explicit.engine.detector.threads == 2  # type: ignore[union-attr]
    assert explicit.engine.detector.parallel_calls == 1  # type: ignore[union-attr]
    assert explicit.engine.embedder.threads == 1  # type: ignore[union-attr]


def test_pipeline_settings_let_every_core_detect_at_once() -> None:
    detector = pipeline_settings(Settings()).engine.detector
    assert isinstance(detector, YuNetConfig)
    assert detector.parallel_calls == min(len(os.sched_getaffinity(0)), 8)


TOP_HALF = Zone.parse([[0.0, 0.0], [1.0, 0.0], [1.0, 0.5], [0.0, 0.5]])


def test_faces_outside_the_camera_zone_are_neither_tracked_nor_embedded(
    fake_engine: FaceEngine, tmp_path: Path
) -> None:
    # Two listed people: one walks in the top half of the view, the other in the bottom half.
    images = [scene([a, b]) for a, b in zip(walk(0, 20), walk(1, 20, y=170), strict=True)]
    embedded_faces: list[int] = []
    embed = fake_engine.embedder.embed_aligned

    def counting(faces: np.ndarray) -> np.ndarray:
        embedded_faces.append(int(faces.reshape(len(faces), -1).any(axis=1).sum()))  # not the blank warm-up
        return embed(faces)

    fake_engine.embedder.embed_aligned = counting  # type: ignore[method-assign]

    def watch(zones: dict[str, Zone]) -> tuple[list[str], WatchPipeline]:
        bus = AlertBus()
        received = bus.subscribe()
        dispatcher = AlertDispatcher(FileAlertStore(tmp_path / str(len(zones))), [bus])
        snapshot = fake_watchlist(fake_engine, (0, 1))
        pipeline = WatchPipeline(fake_engine, snapshot, [ListSource("cam", images)], dispatcher, CONFIG, zones=zones)
        embedded_faces.clear()
        pipeline.run()
        return sorted(str(received.get_nowait()["subject_id"]) for _ in range(received.qsize())), pipeline

    subjects, whole = watch({})
    assert subjects == ["s0", "s1"] and whole.runner.tracks_started == 2
    whole_embedded = sum(embedded_faces)

    subjects, zoned = watch({"cam": TOP_HALF})
    camera = zoned.runner.cameras["cam"]
    assert subjects == ["s0"]  # the listed person below the zone is never searched
    assert zoned.runner.tracks_started == 1 and camera.faces == 20
    zoned_embedded = sum(embedded_faces)
    assert 0 < camera.embedded == zoned_embedded < whole_embedded


def test_zones_apply_per_source(fake_engine: FaceEngine, tmp_path: Path) -> None:
    snapshot = fake_watchlist(fake_engine, (0,))
    dispatcher = AlertDispatcher(FileAlertStore(tmp_path), [])
    pipeline = WatchPipeline(
        fake_engine, snapshot, [ListSource("a", []), ListSource("b", [])], dispatcher, CONFIG, zones={"a": TOP_HALF}
    )
    assert pipeline.runner.cameras["a"].zone == TOP_HALF and pipeline.runner.cameras["b"].zone is None
