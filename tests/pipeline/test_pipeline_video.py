"""Accuracy of the whole pipeline on real video with the real models (YuNet + SFace, calibrated threshold).

Each check runs only the clips it needs. Rules, tracker and threshold are the defaults: nothing here is
tuned per video.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

import cv2
import pytest
from tests.helpers.data import shared_data

from openlfr.alerts.dispatch import AlertDispatcher
from openlfr.alerts.sinks import AlertBus
from openlfr.alerts.store import FileAlertStore
from openlfr.config.models import Settings
from openlfr.engine import FaceEngine
from openlfr.pipeline.alerting import AlertWriter
from openlfr.pipeline.app import RunSummary, WatchPipeline, pipeline_settings
from openlfr.pipeline.camera import prepare
from openlfr.pipeline.config import PipelineConfig
from openlfr.pipeline.gallery import enrol_folder
from openlfr.pipeline.runner import ModelRunner
from openlfr.pipeline.thresholds import default_threshold
from openlfr.sources.factory import open_source
from openlfr.zone import Zone

pytestmark = [pytest.mark.model, pytest.mark.slow]


@pytest.fixture(scope="module")
def engine() -> FaceEngine:
    return FaceEngine.from_settings(pipeline_settings(Settings()))


def watch(
    engine: FaceEngine, watchlist: Path, sources: Sequence[Path], store: Path
) -> tuple[list[dict[str, object]], RunSummary]:
    snapshot, _ = enrol_folder(engine, watchlist)
    bus = AlertBus()
    received = bus.subscribe(maxsize=1000)
    pipeline = WatchPipeline(
        engine,
        snapshot,
        [open_source(str(s)) for s in sources],
        AlertDispatcher(FileAlertStore(store), [bus]),
    )
    summary = pipeline.run()
    alerts = [received.get_nowait() for _ in range(received.qsize())]
    return alerts, summary


def test_hamilton_with_knn_watchlist_finds_obama_in_the_audience(engine: FaceEngine, tmp_path: Path) -> None:
    data = shared_data()
    alerts, _ = watch(engine, data / "faces" / "knn", [data / "video" / "hamilton_short.mp4"], tmp_path)
    subjects = [str(a["subject_id"]) for a in alerts]
    assert subjects.count("obama") == 1
    obama = next(a for a in alerts if a["subject_id"] == "obama")
    assert int(str(obama["frame_index"])) >= 211  # the audience shot
    assert not {"biden", "kit_harington", "rose_leslie"} & set(subjects)
    assert set(subjects) <= {"obama", "alex_lacamoire"}  # the pianist is allowed


def test_crowd_of_passers_by_raises_nothing(engine: FaceEngine, tmp_path: Path) -> None:
    data = shared_data()
    alerts, summary = watch(engine, data / "faces" / "deepface", [data / "video" / "crowd_walk_1080p.mp4"], tmp_path)
    assert alerts == []
    assert summary.faces > 500 and summary.embedded > 20  # faces were seen and searched, not skipped


ENROL_CLIP = {"signer_A": "help.mkv", "signer_B": "please.mkv", "signer_C": "school.mkv", "signer_D": "night.mkv"}


def test_asl_signers_one_alert_per_clip_and_none_for_the_unlisted(engine: FaceEngine, tmp_path: Path) -> None:
    asl = shared_data() / "video" / "asl"
    signer_of = json.loads((asl / "labels.json").read_text())["signer_of_clip"]
    watchlist = tmp_path / "wl"
    for signer, clip in ENROL_CLIP.items():
        folder = watchlist / signer
        folder.mkdir(parents=True)
        capture = cv2.VideoCapture(str(asl / clip))
        for index in range(46):
            ok, image = capture.read()
            assert ok
            if index in (5, 25, 45):
                cv2.imwrite(str(folder / f"{index}.png"), image)
        capture.release()
    probes = sorted(c for c in signer_of if c not in ENROL_CLIP.values())
    assert "hungry.mkv" in probes  # signer_E: on no watchlist
    alerts, summary = watch(engine, watchlist, [asl / c for c in probes], tmp_path / "store")
    by_clip = {c: [a["subject_id"] for a in alerts if a["source"] == c] for c in probes}
    expected = {c: ([signer_of[c]] if signer_of[c] in ENROL_CLIP else []) for c in probes}
    assert by_clip == expected
    assert summary.frames >= 400  # all six clips, ran as six cameras of one process


def short_two_person_clip(folder: Path, frames: int = 8) -> Path:
    """A cut between two signers each in view for ``frames`` frames (about a quarter of a second), as images."""
    asl = shared_data() / "video" / "asl"
    folder.mkdir(parents=True)
    written = 0
    for clip in ("no.mkv", "sorry.mkv"):  # signer_A, then signer_B
        capture = cv2.VideoCapture(str(asl / clip))
        for _ in range(frames):
            ok, image = capture.read()
            assert ok
            cv2.imwrite(str(folder / f"{written:03d}.png"), image)
            written += 1
        capture.release()
    return folder


def two_signer_watchlist(folder: Path) -> Path:
    asl = shared_data() / "video" / "asl"
    for signer, clip in (("signer_A", "help.mkv"), ("signer_B", "please.mkv")):
        (folder / signer).mkdir(parents=True)
        capture = cv2.VideoCapture(str(asl / clip))
        for index in range(46):
            ok, image = capture.read()
            assert ok
            if index in (5, 25, 45):
                cv2.imwrite(str(folder / signer / f"{index}.png"), image)
        capture.release()
    return folder


def test_sixteen_sources_at_once_examine_and_alert_every_passer_by(engine: FaceEngine, tmp_path: Path) -> None:
    # Issue 14: a short clip alerted both people as the only source and neither as one of 16 (the per-round
    # budget let the tracks end unexamined). Every track with a usable face must now be examined.
    clip = short_two_person_clip(tmp_path / "clip")
    watchlist = two_signer_watchlist(tmp_path / "wl")
    snapshot, _ = enrol_folder(engine, watchlist)
    bus = AlertBus()
    received = bus.subscribe(maxsize=1000)
    sources = [open_source(str(clip), source_id=f"cam{c:02d}") for c in range(16)]
    pipeline = WatchPipeline(engine, snapshot, sources, AlertDispatcher(FileAlertStore(tmp_path / "store"), [bus]))
    summary = pipeline.run()
    alerts = [received.get_nowait() for _ in range(received.qsize())]
    assert summary.tracks == 32 and summary.tracks_unexamined == 0
    assert sorted((str(a["source"]), str(a["subject_id"])) for a in alerts) == sorted(
        (f"cam{c:02d}", s) for c in range(16) for s in ("signer_A", "signer_B")
    )


def test_sixteen_cameras_in_lockstep_examine_every_track(engine: FaceEngine, tmp_path: Path) -> None:
    """The same case with every camera's frame in every round (the worst case, and deterministic)."""
    clip = short_two_person_clip(tmp_path / "clip")
    snapshot, _ = enrol_folder(engine, two_signer_watchlist(tmp_path / "wl"))
    config = PipelineConfig()
    writer = AlertWriter(AlertDispatcher(FileAlertStore(tmp_path / "store"), []))
    runner = ModelRunner(engine, snapshot, config, config.policy(default_threshold(engine.contract)), writer)
    names = [f"cam{c:02d}" for c in range(16)]
    for name in names:
        runner.add_camera(name)
    writer.start()
    try:
        for frame in open_source(str(clip)).frames():
            prepared = prepare(frame, engine.detector, config.detection_max_side)
            runner.process([replace(prepared, frame=replace(frame, source_id=name)) for name in names])
        for name in names:
            runner.end_camera(name)
        while runner.waiting:
            runner.process([])
    finally:
        writer.close()
    assert runner.tracks_started == 32 and runner.tracks_unexamined == 0
    assert [camera.alerts for camera in runner.cameras.values()] == [2] * 16


def test_a_camera_zone_keeps_the_faces_on_one_side_of_the_crowd(engine: FaceEngine, tmp_path: Path) -> None:
    """The 1080p crowd walks across the whole width: a zone over the left half tracks and embeds only the
    faces there, one over the right half only those, and one over the sky none at all."""
    data = shared_data()
    snapshot, _ = enrol_folder(engine, data / "faces" / "deepface")
    clip = data / "video" / "crowd_walk_1080p.mp4"

    def watch(zone: Zone | None) -> RunSummary:
        source = open_source(str(clip), source_id="crowd")
        dispatcher = AlertDispatcher(FileAlertStore(tmp_path), [])
        zones = {"crowd": zone} if zone is not None else {}
        return WatchPipeline(engine, snapshot, [source], dispatcher, zones=zones).run()

    whole = watch(None)
    left = watch(Zone.parse([[0.0, 0.0], [0.5, 0.0], [0.5, 1.0], [0.0, 1.0]]))
    right = watch(Zone.parse([[0.5, 0.0], [1.0, 0.0], [1.0, 1.0], [0.5, 1.0]]))
    sky = watch(Zone.parse([[0.0, 0.0], [1.0, 0.0], [1.0, 0.4], [0.0, 0.4]]))
    assert whole.tracks > 10 and whole.embedded > 20
    for side in (left, right):
        assert 0 < side.tracks < whole.tracks
        assert 0 < side.embedded < whole.embedded
        assert 0 < side.faces < whole.faces
    # Every detection has its centre on exactly one side (a track crossing the middle may count on both).
    assert left.faces + right.faces == whole.faces
    assert (sky.faces, sky.tracks, sky.embedded) == (0, 0, 0)
