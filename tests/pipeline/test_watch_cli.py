"""``lfr watch``: arguments, output format (alerts on stdout or --jsonl, summary on stderr), Ctrl-C."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest
from tests.helpers.data import shared_data
from tests.pipeline.conftest import scene

from openlfr.cli import main
from openlfr.pipeline.thresholds import SFACE_INT8BQ

ALERT_FIELDS = {"source", "subject_id", "score", "track_id", "frame_index", "frame_time_s", "latency_ms", "mode"}
SUMMARY_FIELDS = {"frames", "faces", "tracks", "alerts", "fps"}


# The fake faces are bright by construction (grey 200-255): let the enrolment gate accept that.
FAKE_CONFIG = """
engine:
  detector: {{type: fake}}
  embedder: {{type: fake}}
  enrolment_quality: {{max_brightness: 250, require_single_face: true}}
cache_dir: {cache}
"""


def reference_image() -> np.ndarray:
    # Twice the size of the faces in the frames: references must pass an enrolment gate (eye distance).
    return cv2.resize(scene([(0, 100, 80)]), None, fx=2, fy=2, interpolation=cv2.INTER_NEAREST)


def test_watch_with_fake_models_writes_jsonl_and_reports_skipped_references(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "lfr.yaml"
    config.write_text(FAKE_CONFIG.format(cache=tmp_path / "cache"))
    watchlist = tmp_path / "wl"
    (watchlist / "s0").mkdir(parents=True)
    cv2.imwrite(str(watchlist / "s0" / "ref.png"), reference_image())
    cv2.imwrite(str(watchlist / "s0" / "blank.png"), np.zeros((240, 320, 3), np.uint8))
    frames = tmp_path / "frames"
    frames.mkdir()
    for i in range(12):
        cv2.imwrite(str(frames / f"{i:03d}.png"), scene([(0, 10 + 4 * i, 60), (3, 10 + 4 * i, 170)]))
    code = main(
        [
            "--config",
            str(config),
            "watch",
            "--watchlist",
            str(watchlist),
            "--source",
            str(frames),
            "--threshold",
            "0.99",
            "--jsonl",
            str(tmp_path / "alerts.jsonl"),
            "--store",
            str(tmp_path / "store"),
        ]
    )
    captured = capsys.readouterr()
    assert code == 0
    assert captured.out == ""
    assert "skipped reference" in captured.err and "blank.png" in captured.err
    (alert,) = [json.loads(line) for line in (tmp_path / "alerts.jsonl").read_text().splitlines()]
    assert alert.keys() >= ALERT_FIELDS
    assert alert["subject_id"] == "s0" and alert["mode"] == "evaluation" and alert["source"] == "frames"
    summary = json.loads(captured.err.strip().splitlines()[-1])
    assert summary.keys() >= SUMMARY_FIELDS
    assert (summary["frames"], summary["faces"], summary["alerts"]) == (12, 24, 1)


def test_watch_needs_a_threshold_for_an_uncalibrated_model(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "lfr.yaml"
    config.write_text(FAKE_CONFIG.format(cache=tmp_path / "cache"))
    (tmp_path / "wl" / "s0").mkdir(parents=True)
    cv2.imwrite(str(tmp_path / "wl" / "s0" / "ref.png"), reference_image())
    (tmp_path / "frames").mkdir()
    cv2.imwrite(str(tmp_path / "frames" / "0.png"), scene([]))
    args = ["--config", str(config), "watch", "--watchlist", str(tmp_path / "wl"), "--source", str(tmp_path / "frames")]
    assert main([*args, "--store", str(tmp_path / "store")]) == 1
    assert "no calibrated alert threshold" in capsys.readouterr().err


@pytest.mark.model
@pytest.mark.slow
def test_watch_hamilton_prints_one_alert_line_and_a_summary(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    video = shared_data() / "video"
    code = main(
        [
            "watch",
            "--watchlist",
            str(video / "hamilton_refs"),
            "--source",
            str(video / "hamilton_short.mp4"),
            "--store",
            str(tmp_path / "store"),
        ]
    )
    captured = capsys.readouterr()
    assert code == 0
    (alert,) = [json.loads(line) for line in captured.out.splitlines()]
    assert alert.keys() >= ALERT_FIELDS
    assert alert["subject_id"] == "lin_manuel_miranda" and alert["source"] == "hamilton_short.mp4"
    assert alert["threshold"] == SFACE_INT8BQ.threshold  # the calibrated SFace default
    assert alert["reference_image"].endswith("lin-manuel-miranda.png")
    summary = json.loads(captured.err.strip().splitlines()[-1])
    assert summary["frames"] == 275 and summary["alerts"] == 1 and summary["mode"] == "evaluation"


@pytest.mark.model
@pytest.mark.slow
def test_ctrl_c_stops_cleanly_with_a_summary(tmp_path: Path) -> None:
    video = shared_data() / "video"
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "openlfr",
            "watch",
            "--watchlist",
            str(video / "hamilton_refs"),
            "--source",
            str(video / "hamilton_short.mp4"),
            "--realtime",
            "--store",
            str(tmp_path / "store"),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONWARNINGS": "error"},
    )
    # Interrupt once the pipeline is running (its stop handler installed): the first alert line says so, and
    # Lin-Manuel Miranda is named within the clip's first seconds, long before its 9 s end.
    assert process.stdout is not None
    first = process.stdout.readline()
    assert json.loads(first)["subject_id"] == "lin_manuel_miranda", first
    process.send_signal(signal.SIGINT)
    _, err = process.communicate(timeout=60)
    assert process.returncode == 130, err
    summary = json.loads(err.strip().splitlines()[-1])
    assert summary["stopped"] is True
    assert 0 < summary["frames"] < 275


def test_bench_pipeline_reports_throughput_and_stages(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "lfr.yaml"
    config.write_text(FAKE_CONFIG.format(cache=tmp_path / "cache"))
    (tmp_path / "wl" / "s0").mkdir(parents=True)
    cv2.imwrite(str(tmp_path / "wl" / "s0" / "ref.png"), reference_image())
    frames = tmp_path / "frames"
    frames.mkdir()
    for i in range(8):
        cv2.imwrite(str(frames / f"{i}.png"), scene([(0, 10 + 4 * i, 60)]))
    args = ["--config", str(config), "bench", "pipeline", "--source", str(frames), "--watchlist", str(tmp_path / "wl")]
    assert main([*args, "--runs", "2", "--threshold", "0.99", "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["frames"] == 8 and result["runs"] == 2 and result["fps"] > 0
    assert set(result["stage_median_ms"]) == {"decode", "resize", "detect", "track", "select", "embed", "match"}
    assert {"latency_p50_ms", "latency_p95_ms", "cpu_cores_used", "peak_rss_mb", "faces_per_s"} <= result.keys()


@pytest.mark.model
@pytest.mark.slow
def test_broken_sources_are_reported_and_the_good_camera_still_alerts(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    video = shared_data() / "video"
    ffmpeg = shutil.which("ffmpeg")
    if ffmpeg is None:
        pytest.skip("ffmpeg is not installed (scripts/install-system-deps.sh)")
    garbage = tmp_path / "garbage.mp4"
    garbage.write_bytes(b"not a video at all")
    # Index at the front: the cut file opens, then runs out of data half-way (a failure during the run).
    faststart = tmp_path / "faststart.mp4"
    subprocess.run(
        [
            ffmpeg,
            "-v",
            "error",
            "-i",
            str(video / "hamilton_short.mp4"),
            "-c",
            "copy",
            "-movflags",
            "+faststart",
            str(faststart),
        ],
        check=True,
        timeout=60,
    )
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(faststart.read_bytes()[: faststart.stat().st_size // 2])
    sources = [str(garbage), str(cut), str(video / "hamilton_short.mp4")]
    code = main(
        ["watch", "--watchlist", str(video / "hamilton_refs"), "--store", str(tmp_path / "store")]
        + [arg for source in sources for arg in ("--source", source)]
    )
    captured = capsys.readouterr()
    assert code == 1  # the run went to the end, but not every camera did
    alerts = [json.loads(line) for line in captured.out.splitlines()]
    assert {a["source"] for a in alerts if a["subject_id"] == "lin_manuel_miranda"} >= {"hamilton_short.mp4"}
    summary = json.loads(captured.err.strip().splitlines()[-1])
    failures = {f["source"]: f["error"] for f in summary["failed_sources"]}
    assert set(failures) == {str(garbage), "cut.mp4"}
    assert "cannot open" in failures[str(garbage)] and "ends early" in failures["cut.mp4"]
    assert summary["sources"] == ["cut.mp4", "hamilton_short.mp4"]
    assert f"{garbage}: cannot open" in captured.err
