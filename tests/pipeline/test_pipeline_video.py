"""Accuracy of the whole pipeline on real video with the real models (YuNet + SFace, calibrated threshold).

Each check runs only the clips it needs. Rules, tracker and threshold are the defaults: nothing here is
tuned per video.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import cv2
import pytest
from tests.helpers.data import shared_data

from openlfr.alerts.dispatch import AlertDispatcher
from openlfr.alerts.sinks import AlertBus
from openlfr.alerts.store import FileAlertStore
from openlfr.config.models import Settings
from openlfr.engine import FaceEngine
from openlfr.pipeline.app import RunSummary, WatchPipeline, pipeline_settings
from openlfr.pipeline.gallery import enrol_folder
from openlfr.sources.factory import open_source

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
