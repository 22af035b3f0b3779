"""The operational test (as NPL measured the Met's system): clips labelled with who appears in them, a watchlist
(optionally padded with distractor identities to a realistic size), and the live pipeline's own decisions.

Figures, per threshold:

- **TPIR per pass**: a *person-pass* is one listed person appearing in one clip; it is found when that clip raised
  at least one alert for that person. TPIR = found passes / person-passes (Wilson 95 % interval).
- **False alerts per 1,000 passers-by**: an alert in a clip for a subject not labelled in that clip (a distractor
  or another listed person) is false; passers-by are the tracks of all clips (a person who leaves and re-enters
  view is two tracks, so this errs towards more passers-by).
- **Alerts per person-pass**: true alerts / person-passes (1.0 when each pass alerts exactly once).

The pipeline runs once (every clip a camera of one run, every track examined) with a threshold no score reaches,
and records each judgement of each track (``runner.Judgement``: the new faces' top subject and score, the fused
probe's top subjects). The sweep then replays the decision rules (``alerts.rules.decide``) on that record at
each threshold: votes, margin, evidence, one alert per track and subject, the per-camera cooldown. That is the
pipeline's decision at that threshold except for one thing a replay cannot see: a real run stops embedding a
track once it has alerted, which frees the budget for others a little earlier (with every track examined,
this moves no decision of another track).

Labels file (JSON)::

    {"root": "../video",                       # optional: clip paths are relative to it (itself relative
                                               # to the labels file); default: the labels file's folder
     "clips": {"asl/no.mkv": ["signer_A"],     # clip → everyone who appears in it (listed or not)
               "crowd_walk_1080p.mp4": []}}

Nothing here is written anywhere: the run's alerts go to a store that keeps nothing, and only counts are
reported.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from openlfr.alerts.event import AlertEvent
from openlfr.alerts.rules import Candidate, DecisionPolicy, Outcome, decide
from openlfr.engine import FaceEngine
from openlfr.errors import DatasetError
from openlfr.eval.calibrate import wilson_interval
from openlfr.eval.metrics import ErrorCurve
from openlfr.pipeline.config import PipelineConfig
from openlfr.pipeline.gallery import WatchlistSnapshot, build_snapshot, enrol_folder
from openlfr.pipeline.runner import Judgement


@dataclass(frozen=True, slots=True)
class Clip:
    path: Path
    people: tuple[str, ...]

    @property
    def source_id(self) -> str:
        return str(self.path)


def read_labels(path: Path) -> tuple[Clip, ...]:
    """The clips of a labels file (format in the module docstring); DatasetError when it is unusable."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise DatasetError(f"cannot read labels file {path}: {exc.strerror}") from exc
    except ValueError as exc:
        raise DatasetError(f"{path}: not JSON ({exc})") from exc
    if not isinstance(data, dict) or not isinstance(data.get("clips"), dict) or not data["clips"]:
        raise DatasetError(f'{path}: expected {{"clips": {{"CLIP": ["person", ...], ...}}}}')
    root = path.parent / str(data.get("root", "."))
    clips = []
    for name, people in sorted(data["clips"].items()):
        if not isinstance(people, list) or not all(isinstance(p, str) and p for p in people):
            raise DatasetError(f"{path}: clip {name!r} needs a list of the people who appear in it")
        clip = (root / name).resolve()
        if not clip.exists():
            raise DatasetError(f"{path}: clip {name!r} not found at {clip}")
        clips.append(Clip(clip, tuple(sorted(set(people)))))
    return tuple(clips)


class DiscardingStore:
    """An ``AlertStore`` that keeps nothing (the evaluation only counts; nobody reviews these alerts)."""

    def append(self, event: AlertEvent) -> dict[str, object]:
        return {"alert_id": event.alert_id}

    def close(self) -> None:
        return None


@dataclass(frozen=True, slots=True)
class ReplayedAlert:
    source_id: str
    track_id: int
    subject_id: str


def replay(judgements: Sequence[Judgement], policy: DecisionPolicy) -> list[ReplayedAlert]:
    """The alerts the rules raise at ``policy`` on the recorded judgements, in the order they were made."""
    votes: dict[tuple[str, int], Counter[str]] = defaultdict(Counter)
    alerted: dict[tuple[str, int], set[str]] = defaultdict(set)
    last_alert_at: dict[str, dict[str, float]] = defaultdict(dict)
    alerts: list[ReplayedAlert] = []
    for judgement in judgements:
        key = (judgement.source_id, judgement.track_id)
        for face in judgement.faces:
            if face.score >= policy.threshold:
                votes[key][face.subject_id] += 1
        if alerted[key] or not judgement.fused:
            continue  # one alert per track: a real run stops judging it
        best = judgement.fused[0]
        second = judgement.fused[1].score if len(judgement.fused) > 1 else None
        candidate = Candidate(best.subject_id, best.score, second, votes[key][best.subject_id])
        camera = last_alert_at[judgement.source_id]
        now = judgement.media_time_s
        decision = decide(candidate, policy, alerted_subjects=frozenset(), last_alert_at=camera, now=now)
        if decision.alert:
            alerts.append(ReplayedAlert(judgement.source_id, judgement.track_id, best.subject_id))
            camera[best.subject_id] = now
            alerted[key].add(best.subject_id)
        elif decision.outcome is Outcome.COOLDOWN:
            alerted[key].add(best.subject_id)  # as the pipeline does: the track is settled
    return alerts


@dataclass(frozen=True, slots=True)
class ScenarioRun:
    clips: tuple[Clip, ...]
    listed: frozenset[str]
    """subjects of the watchlist proper (not distractors)"""
    tracks: dict[str, int]
    """per clip (source id): tracks started"""
    judgements: tuple[Judgement, ...]


def person_passes(clips: Sequence[Clip], listed: frozenset[str]) -> list[tuple[str, str]]:
    """(clip, person) for every listed person appearing in a clip."""
    return [(c.source_id, p) for c in clips for p in c.people if p in listed]


def score(run: ScenarioRun, policy: DecisionPolicy, clips: Sequence[Clip] | None = None) -> dict[str, Any]:
    """The figures of the module docstring at ``policy.threshold`` (over ``clips``: default all)."""
    clips = run.clips if clips is None else clips
    wanted = {c.source_id for c in clips}
    people = {c.source_id: set(c.people) for c in clips}
    alerts = [a for a in replay(run.judgements, policy) if a.source_id in wanted]
    true = [a for a in alerts if a.subject_id in people[a.source_id]]
    false = [a for a in alerts if a.subject_id not in people[a.source_id]]
    passes = person_passes(clips, run.listed)
    found = {(a.source_id, a.subject_id) for a in true}
    hits = sum(1 for p in passes if p in found)
    tracks = sum(run.tracks.get(c.source_id, 0) for c in clips)
    low, high = wilson_interval(hits, len(passes))
    return {
        "threshold": round(policy.threshold, 6),
        "person_passes": len(passes),
        "passes_found": hits,
        "tpir": hits / len(passes) if passes else None,
        "tpir_ci95": [low, high] if passes else None,
        "true_alerts": len(true),
        "false_alerts": len(false),
        "passers_by": tracks,
        "false_alerts_per_1000_passers_by": 1000 * len(false) / tracks if tracks else None,
        "alerts_per_person_pass": len(true) / len(passes) if passes else None,
    }


def sweep(run: ScenarioRun, base: DecisionPolicy, thresholds: Sequence[float]) -> list[dict[str, Any]]:
    return [score(run, _at(base, t)) for t in thresholds]


def pass_ceilings(run: ScenarioRun, base: DecisionPolicy, thresholds: Sequence[float]) -> dict[str, Any]:
    """Per person-pass, the highest threshold of ``thresholds`` at which the pass is found (None: at none), and
    the highest at which any false alert is raised: a finer comparison of set-ups (e.g. fusion rules) than TPIR
    over a handful of passes, since a better probe keeps its passes to higher thresholds."""
    found_up_to: dict[tuple[str, str], float] = {}
    false_up_to: float | None = None
    people = {c.source_id: set(c.people) for c in run.clips}
    for threshold in sorted(thresholds):
        for alert in replay(run.judgements, _at(base, threshold)):
            if alert.subject_id in people.get(alert.source_id, set()):
                found_up_to[(alert.source_id, alert.subject_id)] = threshold
            else:
                false_up_to = threshold
    passes = [
        {"clip": clip, "person": person, "found_up_to": found_up_to.get((clip, person))}
        for clip, person in person_passes(run.clips, run.listed)
    ]
    return {"passes": passes, "false_alerts_up_to": false_up_to}


def _at(policy: DecisionPolicy, threshold: float) -> DecisionPolicy:
    return DecisionPolicy(threshold, policy.margin, policy.min_evidence, policy.cooldown_s)


def det_curve(rows: Sequence[Mapping[str, Any]]) -> ErrorCurve:
    """FNIR per pass against false alerts per passer-by, over the sweep (ascending thresholds)."""
    usable = [r for r in rows if r["tpir"] is not None and r["passers_by"]]
    return ErrorCurve(
        np.array([r["threshold"] for r in usable], np.float64),
        np.array([r["false_alerts"] / r["passers_by"] for r in usable], np.float64),
        np.array([1.0 - r["tpir"] for r in usable], np.float64),
    )


def group_scores(
    run: ScenarioRun, policy: DecisionPolicy, groups: Mapping[str, Mapping[str, str]]
) -> dict[str, dict[str, Any]]:
    """Per attribute and group: TPIR over the passes of the group's listed people, and false alerts per 1,000
    passers-by over the clips whose labelled people all belong to the group (clips with people of several
    groups count under "mixed", clips with nobody labelled under "unlabelled")."""
    out: dict[str, dict[str, Any]] = {}
    for attribute, assignment in groups.items():
        by_group: dict[str, list[Clip]] = defaultdict(list)
        for clip in run.clips:
            names = {assignment.get(p, "unassigned") for p in clip.people}
            key = "unlabelled" if not names else names.pop() if len(names) == 1 else "mixed"
            by_group[key].append(clip)
        result: dict[str, Any] = {}
        for group in sorted(set(by_group) | {assignment.get(p, "unassigned") for p in run.listed}):
            alarms = score(run, policy, by_group.get(group, []))
            passes = [
                (c, p) for c, p in person_passes(run.clips, run.listed) if assignment.get(p, "unassigned") == group
            ]
            found = {(a.source_id, a.subject_id) for a in replay(run.judgements, policy)}
            hits = sum(1 for p in passes if p in found)
            low, high = wilson_interval(hits, len(passes))
            result[group] = {
                "person_passes": len(passes),
                "tpir": hits / len(passes) if passes else None,
                "tpir_ci95": [low, high] if passes else None,
                "clips": len(by_group.get(group, [])),
                "passers_by": alarms["passers_by"],
                "false_alerts": alarms["false_alerts"],
                "false_alerts_per_1000_passers_by": alarms["false_alerts_per_1000_passers_by"],
            }
        out[attribute] = result
    return out


@dataclass(frozen=True, slots=True)
class Watchlist:
    snapshot: WatchlistSnapshot
    listed: frozenset[str]
    distractors: int
    skipped: int


def build_watchlist(
    engine: FaceEngine, folder: Path, distractors: Path | None, size: int | None, seed: int
) -> Watchlist:
    """The watchlist folder's subjects, padded to ``size`` subjects with identities of ``distractors`` (a
    DATASET/<identity>/<images> folder; identities chosen at random by ``seed``, never a listed subject's name)."""
    snapshot, skipped = enrol_folder(engine, folder)
    listed = frozenset(snapshot.subject_ids)
    if distractors is None:
        if size is not None:
            raise DatasetError("--size needs --distractors to pad the watchlist with")
        return Watchlist(snapshot, listed, 0, len(skipped))
    if not distractors.is_dir():
        raise DatasetError(f"{distractors}: not a folder (expected DATASET/<identity>/<images>)")
    names = sorted(p.name for p in distractors.iterdir() if p.is_dir() and p.name not in listed)
    wanted = (size if size is not None else len(listed) + len(names)) - len(listed)
    if wanted < 0 or wanted > len(names):
        raise DatasetError(
            f"--size {size}: the watchlist has {len(listed)} subjects and {distractors} {len(names)} other identities"
        )
    chosen = {str(n) for n in np.random.default_rng(seed).choice(names, size=wanted, replace=False)}
    extra, extra_skipped = enrol_folder(engine, distractors, only=chosen) if chosen else (None, [])
    if extra is not None:
        snapshot = build_snapshot(
            snapshot.name,
            np.concatenate([snapshot.templates, extra.templates]),
            [*snapshot.subject_ids, *extra.subject_ids],
            [*snapshot.references, *extra.references],
            snapshot.contract,
        )
    return Watchlist(snapshot, listed, (extra.subjects if extra is not None else 0), len(skipped) + len(extra_skipped))


@dataclass(frozen=True, slots=True)
class RecordedRun:
    run: ScenarioRun
    frames: int
    tracks_unexamined: int


def record(engine: FaceEngine, watchlist: Watchlist, clips: Sequence[Clip], config: PipelineConfig) -> RecordedRun:
    """One pass of the live pipeline over every clip (each a camera), recording every judgement."""
    from openlfr.alerts.dispatch import AlertDispatcher
    from openlfr.pipeline.app import WatchPipeline
    from openlfr.sources.factory import open_source

    judgements: list[Judgement] = []
    sources = []
    try:
        for clip in clips:
            sources.append(open_source(str(clip.path), source_id=clip.source_id))
    except BaseException:
        for source in sources:
            source.close()
        raise
    # A threshold no score reaches: nothing alerts, every track keeps being judged; the rules are replayed later.
    trace = config.model_copy(update={"threshold": 1.0})
    dispatcher = AlertDispatcher(DiscardingStore(), [])
    pipeline = WatchPipeline(engine, watchlist.snapshot, sources, dispatcher, trace, observer=judgements.append)
    summary = pipeline.run()
    tracks = {camera.source_id: camera.tracks for camera in pipeline.status().cameras}
    run = ScenarioRun(tuple(clips), watchlist.listed, tracks, tuple(judgements))
    return RecordedRun(run, summary.frames, summary.tracks_unexamined)


def per_clip(run: ScenarioRun, policy: DecisionPolicy) -> list[dict[str, Any]]:
    alerts = replay(run.judgements, policy)
    return [
        {
            "clip": clip.source_id,
            "people": list(clip.people),
            "tracks": run.tracks.get(clip.source_id, 0),
            "alerts": sorted(a.subject_id for a in alerts if a.source_id == clip.source_id),
        }
        for clip in run.clips
    ]
