"""Decision rules, as small pure functions: given the evidence of one track, alert or say why not.

The rules follow how LFR deployments are run: a threshold calibrated for the model (never a single
frame's word), a margin over the runner-up subject (two subjects scoring alike means the system cannot tell
them apart, and an officer should not be sent on a coin toss), a minimum number of consistent faces, one
alert per track and subject, and a per-camera cooldown per subject (a person standing in view, or leaving
and re-entering it, is one encounter, not a stream of alerts).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Literal

Fusion = Literal["quality", "mean", "best"]
"""How a track's kept faces make its probe (docs/EVALUATION.md measures them): ``quality``, the mean weighted by
``quality_rank``; ``mean``, unweighted; ``best``, the best-ranked face alone."""
FUSIONS: tuple[Fusion, ...] = ("quality", "mean", "best")


class Outcome(StrEnum):
    """Stable codes (logged and counted: never rename one)."""

    ALERT = "alert"
    NO_CANDIDATE = "no_candidate"
    BELOW_THRESHOLD = "below_threshold"
    AMBIGUOUS = "ambiguous"
    INSUFFICIENT_EVIDENCE = "insufficient_evidence"
    ALREADY_ALERTED = "already_alerted"
    COOLDOWN = "cooldown"


@dataclass(frozen=True, slots=True)
class DecisionPolicy:
    threshold: float
    """the fused score must reach this (cosine similarity; calibrated per model, see thresholds.py)"""
    margin: float = 0.05
    """the best subject must beat the second-best subject by at least this much"""
    min_evidence: int = 2
    """faces of the track that, on their own, put the same subject first at or above the threshold"""
    cooldown_s: float = 60.0
    """after an alert for a subject on a camera, no new alert for that subject on that camera this long"""


@dataclass(frozen=True, slots=True)
class Candidate:
    """What a track's fused embedding says: the best and runner-up subjects, and the support of the best."""

    subject_id: str
    score: float
    second_score: float | None
    evidence: int


@dataclass(frozen=True, slots=True)
class Decision:
    outcome: Outcome
    candidate: Candidate | None

    @property
    def alert(self) -> bool:
        return self.outcome is Outcome.ALERT


def passes_threshold(score: float, policy: DecisionPolicy) -> bool:
    return score >= policy.threshold


def passes_margin(score: float, second_score: float | None, policy: DecisionPolicy) -> bool:
    # With one subject on the watchlist there is no runner-up: the threshold alone decides.
    return second_score is None or score - second_score >= policy.margin


def has_evidence(evidence: int, policy: DecisionPolicy) -> bool:
    return evidence >= policy.min_evidence


def in_cooldown(last_alert_at: float | None, now: float, policy: DecisionPolicy) -> bool:
    # A negative interval means the clock restarted (a looping file): the old alert no longer applies.
    return last_alert_at is not None and 0.0 <= now - last_alert_at < policy.cooldown_s


def decide(
    candidate: Candidate | None,
    policy: DecisionPolicy,
    *,
    alerted_subjects: frozenset[str],
    last_alert_at: Mapping[str, float],
    now: float,
) -> Decision:
    """Apply every rule in a fixed order; the first that fails names the outcome.

    ``alerted_subjects``: subjects this track already alerted for. ``last_alert_at``: subject → time of
    the last alert on this camera (same clock as ``now``).
    """
    if candidate is None:
        return Decision(Outcome.NO_CANDIDATE, None)
    if not passes_threshold(candidate.score, policy):
        return Decision(Outcome.BELOW_THRESHOLD, candidate)
    if not passes_margin(candidate.score, candidate.second_score, policy):
        return Decision(Outcome.AMBIGUOUS, candidate)
    if not has_evidence(candidate.evidence, policy):
        return Decision(Outcome.INSUFFICIENT_EVIDENCE, candidate)
    if candidate.subject_id in alerted_subjects:
        return Decision(Outcome.ALREADY_ALERTED, candidate)
    if in_cooldown(last_alert_at.get(candidate.subject_id), now, policy):
        return Decision(Outcome.COOLDOWN, candidate)
    return Decision(Outcome.ALERT, candidate)
