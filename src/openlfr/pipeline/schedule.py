"""Which faces are embedded, and when, so that nobody who walks past goes unexamined because others were busier.

A round (one frame from each ready camera) can afford ``embed_budget`` embeddings. A face worth embedding (its
track is short of ``min_evidence`` faces, or it is clearly better than the track's best) is not thrown away when
the budget is spent: it **waits** with its track (at most ``min_evidence`` faces per track, the best ones, in
memory only) until it is picked. Each round picks waiting faces in this order:

1. need: the track's embedded faces, plus the faces of the same track picked before this one (0 first: a track
   nobody has examined yet beats a second face of another; capped at ``min_evidence``, where improvements wait);
2. tracks that have ended before tracks still in view (the person has left: this is the last chance);
3. the longest wait (the round in which the track began waiting), so a track cannot be overtaken for ever;
4. cameras in turn (rotating every round), so one camera does not win every tie.

Hence a track waits at most for the tracks that began waiting before it. A track that ends keeps its waiting faces
until they are embedded, so every track with a usable face is examined: files (which never drop frames) drain
every wait before the run ends. A real-time camera cannot wait for ever: a track that ended ``give_up_after_s``
ago and is still waiting is given up; if none of its faces was embedded it counts as unexamined.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from openlfr.alerts.state import TrackEvidence
from openlfr.pipeline.camera import PreparedFrame


@dataclass(slots=True, eq=False)
class WaitingFace:
    """A face of a track that waits for its embedding (memory only, dropped with the track)."""

    rank: float
    aligned: np.ndarray
    prepared: PreparedFrame
    index: int
    """its detection in ``prepared.detections``"""


@dataclass(slots=True)
class TrackWait:
    faces: list[WaitingFace] = field(default_factory=list)
    """best first, at most ``capacity``"""
    since: int = 0
    """the round in which the track began waiting (reset when one of its faces is embedded)"""
    ended_at: float | None = None
    """the scheduler clock when the track ended; None while it is in view"""


def wants(
    evidence: TrackEvidence, wait: TrackWait | None, rank: float, *, min_evidence: int, improvement: float
) -> bool:
    """Should a face of quality ``rank`` be embedded (eventually)?

    Yes while the track holds (embedded or waiting) fewer than ``min_evidence`` faces: the rules need that many to
    vote. After that, yes for a face that beats the track's best known face by the factor ``improvement`` (a person
    walking towards a camera gets a little bigger every frame: comparing with the best, not the worst, keeps that
    from costing one embedding per frame), and yes for a face that beats the worst face still waiting (it takes
    that face's place: the wait does not grow).
    """
    waiting = wait.faces if wait is not None else []
    if evidence.embedded + len(waiting) < min_evidence:
        return True
    best = max([s.rank for s in evidence.samples[:1]] + [f.rank for f in waiting[:1]], default=0.0)
    if rank > best * improvement:
        return True
    return bool(waiting) and rank > waiting[-1].rank


def offer(wait: TrackWait, face: WaitingFace, capacity: int) -> None:
    """Put ``face`` in the track's wait, keeping the best ``capacity`` faces."""
    wait.faces.append(face)
    wait.faces.sort(key=lambda f: -f.rank)
    del wait.faces[capacity:]


@dataclass(frozen=True, slots=True)
class Pick:
    """One waiting face chosen for this round's batch."""

    source_id: str
    track_id: int
    face: WaitingFace


@dataclass(frozen=True, slots=True)
class Waiting:
    """What the scheduler sees of one camera's track: its evidence and its wait."""

    source_id: str
    turn: int
    """the camera's place in this round's rotation"""
    track_id: int
    evidence: TrackEvidence
    wait: TrackWait


def pick(tracks: list[Waiting], budget: int, min_evidence: int) -> list[Pick]:
    """The ``budget`` waiting faces that go first (the order in the module docstring)."""
    ranked: list[tuple[tuple[int, bool, int, int, int, int], Pick]] = []
    for entry in tracks:
        for position, face in enumerate(entry.wait.faces):
            need = min(entry.evidence.embedded + position, min_evidence)
            key = (need, entry.wait.ended_at is None, entry.wait.since, entry.turn, entry.track_id, position)
            ranked.append((key, Pick(entry.source_id, entry.track_id, face)))
    ranked.sort(key=lambda item: item[0])
    return [p for _, p in ranked[:budget]]
