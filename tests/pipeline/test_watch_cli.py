"""``lfr watch``: arguments, output format (alerts on stdout or --jsonl, summary on stderr), Ctrl-C."""

from __future__ import annotations

import getpass
import json
import os
import shutil
import signal
import stat
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import cv2
import numpy as np
import pytest
import yaml
from sqlalchemy import select
from tests.helpers.accounts import cli_sign_in, person
from tests.helpers.cameras import register_camera
from tests.helpers.console import enrol_subject, frame_folder, live_deployment, snapshot
from tests.helpers.data import shared_data
from tests.pipeline.conftest import scene
from tests.watchlists.helpers import fake_config, run_cli, write_face

from openlfr.audit import AuditRecord, iter_entries
from openlfr.auth.principal import Principal
from openlfr.cli import main
from openlfr.config.loader import load_settings
from openlfr.deployments.service import end_deployment
from openlfr.engine import FaceEngine
from openlfr.pipeline.config import PipelineConfig
from openlfr.pipeline.thresholds import SFACE_INT8BQ
from openlfr.retention.purge import purge_alerts
from openlfr.sources.mandate import RecognitionMandate
from openlfr.store.alert_models import AlertRecord
from openlfr.store.context import open_store
from openlfr.store.models import Snapshot
from openlfr.utc import utcnow
from openlfr.watchlists.snapshots import create_snapshot

ALERT_FIELDS = {"source", "subject_id", "score", "track_id", "frame_index", "frame_time_s", "latency_ms", "mode"}
SUMMARY_FIELDS = {"frames", "faces", "tracks", "alerts", "fps"}


# The fake faces are bright by construction (grey 200-255): let the enrolment gate accept that.
FAKE_CONFIG = """
engine:
  detector: {{type: fake}}
  embedder: {{type: fake}}
  enrolment_quality: {{max_brightness: 250, require_single_face: true}}
cache_dir: {cache}
data_dir: {data}
"""


def reference_image() -> np.ndarray:
    # Twice the size of the faces in the frames: references must pass an enrolment gate (eye distance).
    return cv2.resize(scene([(0, 100, 80)]), None, fx=2, fy=2, interpolation=cv2.INTER_NEAREST)


def test_watch_with_fake_models_writes_jsonl_and_reports_skipped_references(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "lfr.yaml"
    config.write_text(FAKE_CONFIG.format(cache=tmp_path / "cache", data=tmp_path / "var"))
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
    # Stored where retention and subject access look (the data folder's database and media store), privately.
    with open_store(load_settings(config)) as store, store.db.session() as session:
        (stored,) = session.scalars(select(AlertRecord)).all()
        assert (stored.id, stored.mode, stored.deployment_id) == (alert["alert_id"], "evaluation", None)
        assert store.media.path_for(stored.probe_media).is_file()
        start, end = (e for e in iter_entries(session) if e.action.startswith("recognition."))
    assert (start.action, end.action) == ("recognition.run_start", "recognition.run_end")
    # Not signed in: an evaluation run on recordings names the operating-system account that ran it.
    assert start.actor == end.actor == f"cli:{getpass.getuser()}" and start.target_type == "recognition_run"
    assert start.details["run_id"] == end.details["run_id"] == summary["run_id"] == start.target_id
    assert start.details["sources"] == [str(frames)] and start.details["threshold"] == 0.99
    watchlist_facts = start.details["watchlist"]
    assert (watchlist_facts["kind"], watchlist_facts["name"], watchlist_facts["templates"]) == ("folder", "wl", 1)
    assert len(watchlist_facts["fingerprint"]) == 64
    assert (end.details["frames"], end.details["faces"], end.details["alerts"]) == (12, 24, 1)
    # Private files: the data folder 0700, the database, the media and the JSONL 0600.
    assert mode_of(tmp_path / "var") == 0o700
    assert mode_of(tmp_path / "var" / "openlfr.db") == 0o600
    assert mode_of(tmp_path / "alerts.jsonl") == 0o600
    media = [p for p in (tmp_path / "var" / "media").rglob("*") if p.is_file()]
    assert len(media) == 2 and {mode_of(p) for p in media} == {0o600}


def test_watch_needs_a_threshold_for_an_uncalibrated_model(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "lfr.yaml"
    config.write_text(FAKE_CONFIG.format(cache=tmp_path / "cache", data=tmp_path / "var"))
    (tmp_path / "wl" / "s0").mkdir(parents=True)
    cv2.imwrite(str(tmp_path / "wl" / "s0" / "ref.png"), reference_image())
    (tmp_path / "frames").mkdir()
    cv2.imwrite(str(tmp_path / "frames" / "0.png"), scene([]))
    args = ["--config", str(config), "watch", "--watchlist", str(tmp_path / "wl"), "--source", str(tmp_path / "frames")]
    assert main(args) == 1
    assert "no calibrated alert threshold" in capsys.readouterr().err


@pytest.mark.model
@pytest.mark.slow
def test_watch_hamilton_prints_one_alert_line_and_a_summary(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    video = shared_data() / "video"
    monkeypatch.setenv("LFR_DATA_DIR", str(tmp_path / "var"))
    code = main(["watch", "--watchlist", str(video / "hamilton_refs"), "--source", str(video / "hamilton_short.mp4")])
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
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONWARNINGS": "error", "LFR_DATA_DIR": str(tmp_path / "var")},
    )
    assert process.stdout is not None and process.stderr is not None
    # Wait on events, not time: the run has started, then its first alert (frame ~2 of 275) is out.
    for line in process.stderr:
        if line.startswith("lfr watch: running"):
            break
    first = process.stdout.readline()
    assert json.loads(first)["subject_id"] == "lin_manuel_miranda"
    process.send_signal(signal.SIGINT)
    _, err = process.communicate(timeout=60)
    assert process.returncode == 130, err
    summary = json.loads(err.strip().splitlines()[-1])
    assert summary["stopped"] is True
    assert 0 < summary["frames"] < 275


def test_bench_pipeline_reports_throughput_and_stages(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "lfr.yaml"
    config.write_text(FAKE_CONFIG.format(cache=tmp_path / "cache", data=tmp_path / "var"))
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
    assert result["embed_budget"] == PipelineConfig().embed_budget  # the pipeline's default
    assert main([*args, "--runs", "1", "--threshold", "0.99", "--embed-budget", "3", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["embed_budget"] == 3


@pytest.mark.model
@pytest.mark.slow
def test_broken_sources_are_reported_and_the_good_camera_still_alerts(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    video = shared_data() / "video"
    monkeypatch.setenv("LFR_DATA_DIR", str(tmp_path / "var"))
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
        ["watch", "--watchlist", str(video / "hamilton_refs")]
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


def mode_of(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def _folder_watchlist(tmp_path: Path, seed: int) -> Path:
    write_face(tmp_path / "wl" / "s1" / "ref.png", seed)
    return tmp_path / "wl"


def _recognition_entries(config: Path) -> list[AuditRecord]:
    with open_store(load_settings(config)) as store, store.db.session() as session:
        return [e for e in iter_entries(session) if e.action.startswith("recognition.")]


@pytest.mark.slow
def test_live_sources_are_refused_without_a_deployment(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`lfr watch --source` takes recordings; a camera, a device or a playlist that leads to the network needs a
    live, authorised deployment — the sources layer refuses it, so nothing starts and nothing is recorded."""
    config = fake_config(tmp_path)
    watchlist = _folder_watchlist(tmp_path, 1)
    playlist = tmp_path / "camera.m3u8"
    playlist.write_text("#EXTM3U\n#EXTINF:1.0,\nhttp://127.0.0.1:9/segment.ts\n", encoding="utf-8")
    recording = frame_folder(tmp_path / "frames", 1, 2)
    for source in (
        "rtsp://u:pw@127.0.0.1:9/stream",
        "http://127.0.0.1:9/video.mjpg",
        "webcam:0",
        "0",
        playlist,
        "/dev/null",
    ):
        result = run_cli(
            capsys, "--config", config, "watch", "--watchlist", watchlist, "--source", recording, "--source", source
        )
        assert result.code == 1 and "[recognition_not_authorised]" in result.err, (source, result.err)
        assert "pw@" not in result.err
    assert _recognition_entries(config) == []


def test_deployment_runs_its_own_cameras_watchlist_and_threshold(capsys: pytest.CaptureFixture[str]) -> None:
    for extra in (["--watchlist", "wl"], ["--source", "x.mp4"], ["--threshold", "0.2"]):
        result = run_cli(capsys, "watch", "--deployment", "d" * 32, *extra)
        assert result.code == 2 and "cannot be given with --deployment" in result.err
    result = run_cli(capsys, "watch", "--source", "x.mp4")
    assert result.code == 2 and "--watchlist" in result.err


def test_watch_takes_a_database_watchlist_by_name(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """An evaluation run against a stored watchlist searches what a snapshot taken now would hold, in memory (no
    snapshot is stored), records that fingerprint, and its alerts name stored subjects and reference images."""
    config = fake_config(tmp_path)
    settings = load_settings(config)
    engine = FaceEngine.from_settings(settings)
    with open_store(settings) as store:
        alice, image_id = enrol_subject(store, engine, 3, "alice", watchlist="events-1")
    frames = frame_folder(tmp_path / "frames", 3, 12)
    args = ["--config", config, "watch", "--source", frames, "--threshold", "0.9"]
    result = run_cli(capsys, *args, "--watchlist", "events-1")
    assert result.code == 0, result.err
    (alert,) = [json.loads(line) for line in result.out.splitlines()]
    assert (alert["subject_id"], alert["reference_image"], alert["mode"]) == (alice, image_id, "evaluation")
    start, _ = _recognition_entries(config)
    with open_store(settings) as store, store.db.session() as session:
        assert session.scalars(select(Snapshot)).all() == []  # the run stored no copy of the templates
        by = person(session, "tester", "supervisor")
        taken = create_snapshot(session, "events-1", engine.contract, utcnow().date(), by=by)
    assert start.details["watchlist"] == {
        "kind": "database",
        "name": "events-1",
        "fingerprint": taken.fingerprint,
        "templates": 1,
        "subjects": 1,
        "excluded": 0,
        "snapshot": None,
    }
    missing = run_cli(capsys, *args, "--watchlist", "no-such-list")
    assert missing.code == 1 and "neither a folder" in missing.err and "nor a watchlist in the database" in missing.err


def test_watch_runs_with_the_pipeline_section_of_the_configuration(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """docs/PIPELINE.md "Settings": `pipeline:` sets lfr watch's pipeline (here its threshold, and no context
    frame beside the alert); --threshold still wins."""
    config = fake_config(tmp_path)
    written = yaml.safe_load(config.read_text(encoding="utf-8"))
    written["pipeline"] = {"context_frames": False, "threshold": 0.9}
    config.write_text(yaml.safe_dump(written), encoding="utf-8")
    settings = load_settings(config)
    with open_store(settings) as store:
        enrol_subject(store, FaceEngine.from_settings(settings), 3, "alice", watchlist="events-1")
    frames = frame_folder(tmp_path / "frames", 3, 12)
    args = ["--config", config, "watch", "--source", frames, "--watchlist", "events-1"]
    result = run_cli(capsys, *args)
    assert result.code == 0, result.err
    (alert,) = [json.loads(line) for line in result.out.splitlines()]
    assert alert["threshold"] == 0.9 and alert.get("context_image") is None, alert
    with open_store(settings) as store, store.db.session() as session:
        (stored,) = session.scalars(select(AlertRecord)).all()
        assert stored.context_media is None and stored.probe_media is not None
    flagged = run_cli(capsys, *args, "--threshold", "0.95")
    assert flagged.code == 0, flagged.err
    (alert,) = [json.loads(line) for line in flagged.out.splitlines()]
    assert alert["threshold"] == 0.95  # the flag wins over the section


def test_evaluation_alerts_are_found_by_subject_search_and_purged_by_retention(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = fake_config(tmp_path)
    settings = load_settings(config)
    frames = frame_folder(tmp_path / "frames", 11, 12)
    result = run_cli(
        capsys, "--config", config, "watch", "--watchlist", _folder_watchlist(tmp_path, 11), "--source", frames,
        "--threshold", "0.9",
    )  # fmt: skip
    assert result.code == 0, result.err
    (alert,) = [json.loads(line) for line in result.out.splitlines()]
    photo = write_face(tmp_path / "photo.png", 11, noise=2)
    settings = load_settings(Path(config))
    cli_sign_in(f"sqlite+pysqlite:///{settings.data_dir / 'openlfr.db'}", settings.data_dir)  # subject access: governed
    found = run_cli(capsys, "--config", config, "subject", "search", "--image", photo, "--threshold", "0.9", "--json")
    assert found.code == 0, found.err
    assert [a["alert_id"] for a in found.json()["alerts"]] == [alert["alert_id"]]
    media = settings.data_dir / "media"
    assert len([p for p in media.rglob("*") if p.is_file()]) == 2
    with open_store(settings) as store:
        purged = purge_alerts(
            store, now=utcnow() + timedelta(days=32), retention_days=31, by=Principal.system("retention")
        )
        assert (purged.alerts, purged.media_files) == (1, 2)
        with store.db.session() as session:
            assert session.scalars(select(AlertRecord)).all() == []
    assert [p for p in media.rglob("*") if p.is_file()] == []


def _live_gate(tmp_path: Path, config: Path, *, loop: bool = False, frames: int = 12) -> RecognitionMandate:
    settings = load_settings(config)
    engine = FaceEngine.from_settings(settings)
    with open_store(settings) as store:
        enrol_subject(store, engine, 1, "alice")
        snapshot_id = snapshot(store, engine)
        with store.db.session() as session:
            camera = register_camera(session, "gate", str(frame_folder(tmp_path / "gate", 1, frames)), loop=loop)
            camera_id = camera.id
        mandate = live_deployment(store, snapshot_id, [camera_id])
    # Joining a live deployment is governed: the command runs as a signed-in operator.
    cli_sign_in(f"sqlite+pysqlite:///{settings.data_dir / 'openlfr.db'}", settings.data_dir, "op", "operator")
    return mandate


@pytest.mark.slow
def test_watch_joins_a_live_deployment(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = fake_config(tmp_path)
    mandate = _live_gate(tmp_path, config)
    result = run_cli(capsys, "--config", config, "watch", "--deployment", mandate.deployment_id)
    assert result.code == 0, result.err
    (alert,) = [json.loads(line) for line in result.out.splitlines()]
    assert (alert["mode"], alert["source"], alert["deployment_id"]) == ("production", "gate", mandate.deployment_id)
    assert alert["threshold"] == mandate.threshold
    start, end = _recognition_entries(config)
    assert (start.target_type, start.target_id) == ("deployment", mandate.deployment_id)
    assert start.details["watchlist"]["fingerprint"] == mandate.snapshot_fingerprint
    assert start.details["source_ids"] == ["gate"] and end.details["alerts"] == 1
    with open_store(load_settings(config)) as store, store.db.session() as session:
        end_deployment(
            session, mandate.deployment_id, by=person(session, "test-sgt", "supervisor"), reason="over", now=utcnow()
        )
    refused = run_cli(capsys, "--config", config, "watch", "--deployment", mandate.deployment_id)
    assert refused.code == 1 and "[deployment_state]" in refused.err and "live, authorised deployment" in refused.err


@pytest.mark.slow
def test_watch_on_a_deployment_stops_when_the_deployment_ends(tmp_path: Path) -> None:
    config = fake_config(tmp_path)
    mandate = _live_gate(tmp_path, config, loop=True, frames=4)
    process = subprocess.Popen(
        [sys.executable, "-m", "openlfr", "--config", str(config), "watch", "--deployment", mandate.deployment_id],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "LFR_GOVERNANCE__SCHEDULER_INTERVAL_S": "0.2"},
    )
    try:
        assert process.stdout is not None
        assert json.loads(process.stdout.readline())["deployment_id"] == mandate.deployment_id  # it runs
        with open_store(load_settings(config)) as store, store.db.session() as session:
            end_deployment(
                session,
                mandate.deployment_id,
                by=person(session, "test-sgt", "supervisor"),
                reason="over",
                now=utcnow(),
            )
        _, err = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 1, err
    assert "recognition stopped" in err and "is ended" in err
    (_, end) = _recognition_entries(config)
    assert "ended" in end.details["revoked"]
