"""`lfr eval scenarios`: labelled clips through the live pipeline, the rules replayed over a threshold sweep."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest
from tests.helpers.data import shared_data
from tests.pipeline.conftest import fake_watchlist, scene

from openlfr.alerts.dispatch import AlertDispatcher
from openlfr.alerts.rules import DecisionPolicy
from openlfr.alerts.sinks import AlertBus
from openlfr.alerts.store import FileAlertStore
from openlfr.cli import main
from openlfr.config.models import EngineConfig, FakeDetectorConfig, FakeEmbedderConfig, Settings
from openlfr.engine import FaceEngine
from openlfr.errors import DatasetError
from openlfr.eval.scenarios import (
    Clip,
    ScenarioRun,
    Watchlist,
    pass_ceilings,
    read_labels,
    record,
    replay,
    score,
)
from openlfr.match.index import SearchHit
from openlfr.pipeline.app import WatchPipeline
from openlfr.pipeline.config import PipelineConfig
from openlfr.pipeline.runner import Judgement
from openlfr.sources.factory import open_source


@pytest.fixture
def fake_engine(tmp_path: Path) -> FaceEngine:
    config = EngineConfig(detector=FakeDetectorConfig(), embedder=FakeEmbedderConfig())
    return FaceEngine.from_settings(Settings(engine=config, cache_dir=tmp_path / "cache"))


POLICY = DecisionPolicy(threshold=0.5, margin=0.05, min_evidence=2, cooldown_s=60.0)


def judgement(
    source: str, track: int, t: float, faces: list[tuple[str, float]], fused: list[tuple[str, float]]
) -> Judgement:
    return Judgement(
        source, track, t, tuple(SearchHit(s, v) for s, v in faces), tuple(SearchHit(s, v) for s, v in fused)
    )


def test_replay_applies_votes_margin_one_alert_per_track_and_cooldown() -> None:
    record_ = [
        judgement("cam", 1, 0.0, [("alice", 0.7)], [("alice", 0.7), ("bob", 0.2)]),  # one vote: not yet
        judgement("cam", 1, 0.1, [("alice", 0.6)], [("alice", 0.65), ("bob", 0.2)]),  # two votes: alert
        judgement("cam", 1, 0.2, [("alice", 0.9)], [("alice", 0.8), ("bob", 0.2)]),  # track done
        judgement("cam", 2, 1.0, [("alice", 0.7), ("alice", 0.7)], [("alice", 0.7), ("bob", 0.2)]),  # cooldown
        judgement("cam2", 3, 1.0, [("bob", 0.6), ("bob", 0.6)], [("bob", 0.6), ("carol", 0.58)]),  # ambiguous
    ]
    assert [(a.source_id, a.track_id, a.subject_id) for a in replay(record_, POLICY)] == [("cam", 1, "alice")]
    later = DecisionPolicy(threshold=0.65, margin=0.05, min_evidence=2, cooldown_s=60.0)
    assert [a.track_id for a in replay(record_, later)] == [1]  # 0.6 no longer votes: alert on the third face
    assert replay(record_, DecisionPolicy(threshold=0.85)) == []  # one face above: never two votes
    no_cooldown = DecisionPolicy(threshold=0.5, margin=0.05, min_evidence=2, cooldown_s=0.0)
    assert [a.track_id for a in replay(record_, no_cooldown)] == [1, 2]


def test_score_counts_passes_false_alerts_and_passers_by() -> None:
    clips = (Clip(Path("a.mkv"), ("alice",)), Clip(Path("b.mkv"), ("bob", "dave")), Clip(Path("c.mkv"), ()))
    record_ = [
        judgement("a.mkv", 1, 0.0, [("alice", 0.9), ("alice", 0.9)], [("alice", 0.9), ("x", 0.1)]),
        judgement("a.mkv", 2, 0.0, [("alice", 0.9), ("alice", 0.9)], [("alice", 0.9), ("x", 0.1)]),  # cooldown
        judgement("c.mkv", 5, 0.0, [("bob", 0.55), ("bob", 0.55)], [("bob", 0.55), ("x", 0.1)]),  # false alert
    ]
    run = ScenarioRun(clips, frozenset({"alice", "bob"}), {"a.mkv": 3, "b.mkv": 2, "c.mkv": 5}, tuple(record_))
    result = score(run, POLICY)
    assert (result["person_passes"], result["passes_found"], result["tpir"]) == (2, 1, 0.5)
    assert (result["true_alerts"], result["false_alerts"], result["passers_by"]) == (1, 1, 10)
    assert result["false_alerts_per_1000_passers_by"] == 100.0 and result["alerts_per_person_pass"] == 0.5
    assert score(run, DecisionPolicy(0.6))["false_alerts"] == 0


def test_labels_file_format_and_errors(tmp_path: Path) -> None:
    (tmp_path / "video").mkdir()
    (tmp_path / "video" / "a.mkv").write_bytes(b"")
    labels = tmp_path / "labels.json"
    labels.write_text(json.dumps({"root": "video", "clips": {"a.mkv": ["bob", "alice", "bob"]}}))
    (clip,) = read_labels(labels)
    assert clip.path == (tmp_path / "video" / "a.mkv").resolve() and clip.people == ("alice", "bob")
    for content, message in (
        ("nope", "not JSON"),
        (json.dumps({"clips": {}}), "expected"),
        (json.dumps({"root": "video", "clips": {"a.mkv": "bob"}}), "list of the people"),
        (json.dumps({"clips": {"missing.mkv": []}}), "not found"),
    ):
        labels.write_text(content)
        with pytest.raises(DatasetError, match=message):
            read_labels(labels)


def _clip(folder: Path, faces: list[list[tuple[int, int, int]]]) -> Path:
    folder.mkdir(parents=True)
    for index, people in enumerate(faces):
        cv2.imwrite(str(folder / f"{index:03d}.png"), scene(people))
    return folder


def test_the_replay_decides_as_the_pipeline_does(fake_engine: FaceEngine, tmp_path: Path) -> None:
    # Listed s0 and s1 walk through; s3 (unlisted, close to nobody) too; the fake embedder scores the same
    # texture >= 0.99 and others <= 0.97, so thresholds 0.95-0.995 cover alerts, false alerts and misses.
    walk = [[(0, 10 + 4 * i, 20), (3, 200 - 4 * i, 150)] for i in range(12)] + [[]] * 12
    clips = (
        Clip(_clip(tmp_path / "one", walk), ("s0", "s3")),
        Clip(_clip(tmp_path / "two", [[(1, 100, 20 + 3 * i)] for i in range(10)]), ("s1",)),
    )
    snapshot = fake_watchlist(fake_engine, (0, 1, 2))
    watchlist = Watchlist(snapshot, frozenset({"s0", "s1"}), 1, 0)
    config = PipelineConfig(margin=0.005)
    recorded = record(fake_engine, watchlist, clips, config)
    assert recorded.run.tracks == {str(clips[0].path): 2, str(clips[1].path): 1}
    seen: dict[float, list[tuple[str, str]]] = {}
    for threshold in (0.9, 0.95, 0.99, 0.995):
        bus = AlertBus()
        heard = bus.subscribe(maxsize=100)
        sources = [open_source(str(c.path), source_id=c.source_id) for c in clips]
        real = WatchPipeline(
            fake_engine,
            snapshot,
            sources,
            AlertDispatcher(FileAlertStore(tmp_path / f"store-{threshold}"), [bus]),
            config.model_copy(update={"threshold": threshold}),
        )
        real.run()
        alerts = sorted(
            (str(r["source"]), str(r["subject_id"])) for r in (heard.get_nowait() for _ in range(heard.qsize()))
        )
        replayed = sorted(
            (a.source_id, a.subject_id) for a in replay(recorded.run.judgements, config.policy(threshold))
        )
        assert replayed == alerts, threshold
        seen[threshold] = alerts
    assert seen[0.99] and len({tuple(a) for a in seen.values()}) > 1  # the sweep changes the outcome


def test_the_configured_fusion_rule_makes_the_fused_probe(fake_engine: FaceEngine, tmp_path: Path) -> None:
    # With "best" the fused probe is the track's best face itself: its top score is one its faces scored; the
    # quality-weighted mean of several faces of a walking person scores differently from each of them.
    folder = tmp_path / "walk"
    folder.mkdir()
    rng = np.random.default_rng(5)
    for i in range(14):  # the same face, a little different in every frame (sensor noise)
        frame = scene([(0, 10 + 9 * i, 20 + 5 * i)]).astype(np.int16) + rng.integers(-12, 13, (1, 1, 1))
        frame[20 + 5 * i : 68 + 5 * i, 10 + 9 * i : 58 + 9 * i] += rng.integers(-20, 21, (48, 48, 1)).astype(np.int16)
        cv2.imwrite(str(folder / f"{i:03d}.png"), np.clip(frame, 0, 255).astype(np.uint8))
    clips = (Clip(folder, ("s0",)),)
    watchlist = Watchlist(fake_watchlist(fake_engine, (0, 1)), frozenset({"s0", "s1"}), 0, 0)

    def fused_outside_faces(fusion: str) -> int:
        config = PipelineConfig(margin=0.005, improvement=1.0, fusion=fusion)  # type: ignore[arg-type]
        recorded = record(fake_engine, watchlist, clips, config)
        seen: set[float] = set()
        outside = 0
        for j in recorded.run.judgements:
            seen |= {round(f.score, 5) for f in j.faces}
            outside += round(j.fused[0].score, 5) not in seen
        assert len(recorded.run.judgements) >= 2
        return outside

    assert fused_outside_faces("best") == 0
    assert fused_outside_faces("quality") > 0


def test_the_cli_offers_every_fusion_rule() -> None:
    import argparse

    from openlfr.alerts.rules import FUSIONS
    from openlfr.commands.eval import register

    parser = argparse.ArgumentParser()
    register(parser.add_subparsers())
    for rule in FUSIONS:
        args = parser.parse_args(["eval", "scenarios", "labels.json", "--watchlist", "wl", "--fusion", rule])
        assert args.fusion == rule
    with pytest.raises(SystemExit):
        parser.parse_args(["eval", "scenarios", "labels.json", "--watchlist", "wl", "--fusion", "max"])


def test_pass_ceilings_name_the_highest_threshold_each_pass_is_found_at() -> None:
    record_ = [
        judgement("one", 1, 0.0, [("alice", 0.7), ("alice", 0.66)], [("alice", 0.68), ("bob", 0.2)]),
        judgement("two", 1, 0.0, [("bob", 0.5), ("bob", 0.5)], [("bob", 0.52), ("carol", 0.1)]),
        judgement("two", 2, 5.0, [("alice", 0.45), ("alice", 0.45)], [("alice", 0.46), ("bob", 0.3)]),
    ]
    clips = (Clip(Path("one"), ("alice",)), Clip(Path("two"), ("bob",)))
    run = ScenarioRun(clips, frozenset({"alice", "bob"}), {"one": 1, "two": 2}, tuple(record_))
    thresholds = [round(0.40 + 0.01 * i, 2) for i in range(41)]
    report = pass_ceilings(run, POLICY, thresholds)
    assert report["passes"] == [
        {"clip": "one", "person": "alice", "found_up_to": 0.66},
        {"clip": "two", "person": "bob", "found_up_to": 0.5},
    ]
    assert report["false_alerts_up_to"] == 0.45  # alice is not in clip two


def test_pass_ceilings_of_a_pass_never_found_is_none() -> None:
    run = ScenarioRun((Clip(Path("one"), ("alice",)),), frozenset({"alice"}), {"one": 1}, ())
    report = pass_ceilings(run, POLICY, [0.3, 0.5])
    assert report == {"passes": [{"clip": "one", "person": "alice", "found_up_to": None}], "false_alerts_up_to": None}


@pytest.mark.model
@pytest.mark.slow
def test_scenarios_cli_on_shared_clips_with_distractors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = shared_data()
    watchlist = tmp_path / "wl"
    (watchlist / "signer_A").mkdir(parents=True)
    capture = cv2.VideoCapture(str(data / "video" / "asl" / "help.mkv"))
    for index in range(46):
        ok, image = capture.read()
        assert ok
        if index in (5, 25, 45):
            cv2.imwrite(str(watchlist / "signer_A" / f"{index}.png"), image)
    labels = tmp_path / "labels.json"
    clips = {"no.mkv": ["signer_A"], "hungry.mkv": ["signer_E"], "sorry.mkv": ["signer_B"]}
    labels.write_text(json.dumps({"root": str(data / "video" / "asl"), "clips": clips}))
    groups = tmp_path / "groups.csv"
    groups.write_text("identity,fixture_group\nsigner_A,x\nsigner_B,y\nsigner_E,y\n")  # for the test only
    plot = tmp_path / "det.png"
    args = ["eval", "scenarios", str(labels), "--watchlist", str(watchlist), "--json", "--plot", str(plot)]
    args += ["--distractors", str(data / "faces" / "deepface"), "--size", "6", "--groups", str(groups)]
    assert main(args) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["watchlist"]["listed"] == 1 and report["watchlist"]["subjects"] == 6
    assert report["clips"] == 3 and report["tracks"] >= 3 and report["tracks_unexamined"] == 0
    point = report["operating_point"]
    assert (point["person_passes"], point["passes_found"], point["false_alerts"]) == (1, 1, 0)
    by_clip = {Path(c["clip"]).name: c["alerts"] for c in report["per_clip"]}
    assert by_clip == {"no.mkv": ["signer_A"], "hungry.mkv": [], "sorry.mkv": []}
    tpir = [row["tpir"] for row in report["sweep"]]
    assert tpir == sorted(tpir, reverse=True) and tpir[0] == 1.0  # higher thresholds never find more
    assert report["groups"]["fixture_group"]["x"]["tpir"] == 1.0
    assert plot.read_bytes()[:4] == b"\x89PNG"
    assert report["fusion"] == "quality"
    assert report["pass_ceilings"]["passes"][0]["person"] == "signer_A"
    assert report["pass_ceilings"]["passes"][0]["found_up_to"] >= point["threshold"]
    assert np.isclose(report["sweep"][0]["threshold"], 0.3)
