"""Embedding scheduling: every passer-by with a usable face is examined, and what real time forces to skip is
counted (fake detector and embedder; rounds driven by hand, so every figure is deterministic)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path

import numpy as np
from tests.pipeline.conftest import ListSource, fake_watchlist, scene

from openlfr.alerts.dispatch import AlertDispatcher
from openlfr.alerts.sinks import AlertBus
from openlfr.alerts.state import FaceSample, TrackEvidence
from openlfr.alerts.store import FileAlertStore
from openlfr.engine import FaceEngine
from openlfr.pipeline.alerting import AlertWriter
from openlfr.pipeline.app import WatchPipeline
from openlfr.pipeline.camera import PreparedFrame, prepare
from openlfr.pipeline.config import PipelineConfig
from openlfr.pipeline.runner import ModelRunner
from openlfr.pipeline.schedule import TrackWait, Waiting, WaitingFace, pick, wants
from openlfr.types import Frame, ImageBGR

CONFIG = PipelineConfig(threshold=0.99, margin=0.005, embed_budget=2)


def short_pass(frames: int = 6, gap: int = 14) -> list[ImageBGR]:
    """Two listed people (s0, s1) in view for ``frames`` frames, then an empty scene long enough to end them."""
    people = [scene([(0, 20 + 3 * i, 40), (1, 200 - 3 * i, 150)]) for i in range(frames)]
    return people + [scene([])] * gap


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


@contextmanager
def runner_for(
    engine: FaceEngine, tmp_path: Path, cameras: int, *, realtime: bool = False, clock: FakeClock | None = None
) -> Iterator[tuple[ModelRunner, AlertBus]]:
    bus = AlertBus()
    writer = AlertWriter(AlertDispatcher(FileAlertStore(tmp_path), [bus]))
    runner = ModelRunner(
        engine,
        fake_watchlist(engine, (0, 1)),
        CONFIG,
        CONFIG.policy(0.99),
        writer,
        clock=clock or FakeClock(),
    )
    for c in range(cameras):
        runner.add_camera(f"cam{c}", realtime=realtime)
    writer.start()
    try:
        yield runner, bus
    finally:
        writer.close()


def lockstep(engine: FaceEngine, runner: ModelRunner, images: Sequence[ImageBGR]) -> None:
    """Every camera shows the same frame in the same round (the worst case: everyone needs the models at once)."""
    for index, image in enumerate(images):
        prepared = prepare(Frame("cam0", index, image, 0.0, index / 25), engine.detector, 640)
        runner.process([_as_camera(prepared, name) for name in runner.cameras])


def _as_camera(prepared: PreparedFrame, name: str) -> PreparedFrame:
    return replace(prepared, frame=replace(prepared.frame, source_id=name))


def examined(runner: ModelRunner) -> list[int]:
    return [camera.embedded for camera in runner.cameras.values()]


def test_sixteen_cameras_at_once_every_track_is_examined_and_every_listed_person_alerts(
    fake_engine: FaceEngine, tmp_path: Path
) -> None:
    # 16 cameras × 2 people in view for 6 frames: 32 tracks wanting 2 faces each while the budget allows 2 per
    # round. Before waiting faces were kept, most tracks ended before their turn and nobody counted them.
    received = []
    with runner_for(fake_engine, tmp_path, cameras=16) as (runner, bus):
        queue = bus.subscribe(maxsize=1000)
        lockstep(fake_engine, runner, short_pass())
        for name in runner.cameras:
            runner.end_camera(name)
        while runner.waiting:
            runner.process([])
    while not queue.empty():  # the writer has written every alert once closed
        received.append(queue.get_nowait())
    assert runner.tracks_started == 32
    assert runner.tracks_unexamined == 0
    assert sorted((str(r["source"]), str(r["subject_id"])) for r in received) == sorted(
        (f"cam{c}", s) for c in range(16) for s in ("s0", "s1")
    )
    assert all(not c.tracks and not c.ended and not c.waits for c in runner.cameras.values())  # all forgotten


def test_the_whole_pipeline_with_sixteen_sources_examines_every_track(fake_engine: FaceEngine, tmp_path: Path) -> None:
    sources = [ListSource(f"cam{c}", short_pass()) for c in range(16)]
    bus = AlertBus()
    received = bus.subscribe(maxsize=1000)
    pipeline = WatchPipeline(
        fake_engine,
        fake_watchlist(fake_engine, (0, 1)),
        sources,
        AlertDispatcher(FileAlertStore(tmp_path), [bus]),
        CONFIG,
    )
    summary = pipeline.run()
    assert summary.tracks == 32 and summary.tracks_unexamined == 0
    assert summary.as_dict()["tracks_unexamined"] == 0
    assert summary.alerts == received.qsize() == 32  # however the rounds fell, nobody was left out


def slow_embedder(engine: FaceEngine, clock: FakeClock, seconds: float) -> None:
    """Every embedding call takes ``seconds`` on ``clock`` (the models far behind the cameras)."""
    embed = engine.embedder.embed_aligned

    def slow(crops: np.ndarray) -> np.ndarray:
        clock.now += seconds
        return embed(crops)

    engine.embedder.embed_aligned = slow  # type: ignore[method-assign]


def test_a_real_time_overload_counts_the_tracks_it_gave_up(fake_engine: FaceEngine, tmp_path: Path) -> None:
    clock = FakeClock()
    slow_embedder(fake_engine, clock, seconds=2.0)
    with runner_for(fake_engine, tmp_path, cameras=24, realtime=True, clock=clock) as (runner, _):
        lockstep(fake_engine, runner, short_pass(frames=3))
        for name in runner.cameras:
            runner.end_camera(name)
        while runner.waiting:
            runner.process([])
    # 48 tracks, 2 faces per round at 2 s a round: give_up_after_s (5 s) passed for some tracks before their turn.
    per_camera = [c.tracks_unexamined for c in runner.cameras.values()]
    assert runner.tracks_started == 48
    assert runner.tracks_unexamined == sum(per_camera) > 0
    examined_tracks = runner.tracks_started - runner.tracks_unexamined
    assert examined_tracks > 0
    assert sum(examined(runner)) >= examined_tracks  # each examined track had at least one embedding
    assert all(not c.ended and not c.waits for c in runner.cameras.values())


def test_files_never_give_up_however_slow_the_models(fake_engine: FaceEngine, tmp_path: Path) -> None:
    clock = FakeClock()
    slow_embedder(fake_engine, clock, seconds=2.0)
    with runner_for(fake_engine, tmp_path, cameras=24, realtime=False, clock=clock) as (runner, _):
        lockstep(fake_engine, runner, short_pass(frames=3))
        for name in runner.cameras:
            runner.end_camera(name)
        while runner.waiting:
            runner.process([])
    assert runner.tracks_started == 48 and runner.tracks_unexamined == 0
    assert all(camera.embedded >= 2 for camera in runner.cameras.values())


def test_a_stopped_run_counts_the_tracks_still_waiting(fake_engine: FaceEngine, tmp_path: Path) -> None:
    with runner_for(fake_engine, tmp_path, cameras=16) as (runner, _):
        lockstep(fake_engine, runner, short_pass(frames=6, gap=0)[:4])  # everyone in view, few rounds so far
        waiting = sum(
            1 for c in runner.cameras.values() for t, w in c.waits.items() if w.faces and c.evidence(t).embedded == 0
        )
        runner.abandon()
    assert waiting > 0 and runner.tracks_unexamined == waiting
    assert all(not c.tracks and not c.ended and not c.waits for c in runner.cameras.values())


def _face(rank: float) -> WaitingFace:
    return WaitingFace(rank, np.zeros((112, 112, 3), np.uint8), None, 0)  # type: ignore[arg-type]


def _sample(rank: float) -> FaceSample:
    return FaceSample(rank, np.zeros(4, np.float32), np.zeros((2, 2, 3), np.uint8), 0, 0.0, 0.0, [])


def test_wants_faces_until_min_evidence_then_only_better_ones() -> None:
    evidence = TrackEvidence(track_id=1, keep=3)
    rules = {"min_evidence": 2, "improvement": 1.1}
    assert wants(evidence, None, 0.5, **rules)
    wait = TrackWait(faces=[_face(0.5)])
    assert wants(evidence, wait, 0.3, **rules)  # one waiting, none embedded: still short of two
    wait.faces.append(_face(0.4))
    assert not wants(evidence, wait, 0.39, **rules)  # no better than what waits
    assert wants(evidence, wait, 0.45, **rules)  # takes the place of the worse waiting face
    evidence.add(_sample(0.5), threshold=0.5)
    evidence.add(_sample(0.4), threshold=0.5)
    assert not wants(evidence, TrackWait(), 0.54, **rules)  # better than the best, but not by 10 %
    assert wants(evidence, TrackWait(), 0.56, **rules)


def test_pick_order_need_then_ended_then_longest_wait_then_camera_turn() -> None:
    def entry(source: str, turn: int, embedded: int, since: int, ended: bool, faces: int = 1) -> Waiting:
        evidence = TrackEvidence(track_id=turn, keep=5)
        evidence.embedded = embedded
        wait = TrackWait([_face(0.5) for _ in range(faces)], since, 1.0 if ended else None)
        return Waiting(source, turn, turn, evidence, wait)

    improvement = entry("improve", 0, embedded=2, since=0, ended=True)
    second = entry("second", 1, embedded=1, since=0, ended=True)
    live_old = entry("live_old", 2, embedded=0, since=1, ended=False)
    ended_new = entry("ended_new", 3, embedded=0, since=9, ended=True)
    ended_old = entry("ended_old", 4, embedded=0, since=5, ended=True, faces=2)
    tie_late_turn = entry("tie_late", 6, embedded=0, since=9, ended=True)
    order = [p.source_id for p in pick([improvement, second, live_old, ended_new, ended_old, tie_late_turn], 9, 2)]
    assert order == ["ended_old", "ended_new", "tie_late", "live_old", "second", "ended_old", "improve"]
    assert [p.source_id for p in pick([improvement, live_old, ended_old], 2, 2)] == ["ended_old", "live_old"]
