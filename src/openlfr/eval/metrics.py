"""Biometric error-rate metrics as pure functions of score arrays (higher score = more similar).

Conventions, used everywhere in OpenLFR: a comparison is *accepted* when ``score >= threshold``.
``threshold_at_rate(negatives, rate)`` is the smallest threshold whose false-accept rate is at most
``rate``; when ``rate × len(negatives) < 1`` that is just above the highest negative score, and the
estimate rests on very few data (callers report the counts).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

Scores = npt.NDArray[np.float64]


def _as_scores(values: npt.ArrayLike) -> Scores:
    scores = np.asarray(values, dtype=np.float64).reshape(-1)
    if scores.size == 0:
        raise ValueError("no scores")
    return scores


def auc(genuine: npt.ArrayLike, impostor: npt.ArrayLike) -> float:
    """Area under the ROC curve = P(genuine > impostor) + ½·P(tie) (Mann–Whitney), exact."""
    gen, imp = _as_scores(genuine), np.sort(_as_scores(impostor))
    below = np.searchsorted(imp, gen, side="left").astype(np.float64)
    ties = np.searchsorted(imp, gen, side="right") - below
    return float((below + 0.5 * ties).sum() / (gen.size * imp.size))


def false_accept_rate(negatives: npt.ArrayLike, threshold: float) -> float:
    neg = _as_scores(negatives)
    return float(np.count_nonzero(neg >= threshold) / neg.size)


def threshold_at_rate(negatives: npt.ArrayLike, rate: float) -> float:
    """Smallest threshold t with mean(negatives >= t) <= rate."""
    if not 0 <= rate <= 1:
        raise ValueError(f"rate must be in [0, 1], got {rate}")
    descending = np.sort(_as_scores(negatives))[::-1]
    allowed = int(np.floor(rate * descending.size + 1e-9))
    if allowed >= descending.size:
        return float(descending[-1])
    # Every negative scoring at or above descending[allowed] would be accepted at t <= that score.
    return float(np.nextafter(descending[allowed], np.inf))


def tar_at_far(genuine: npt.ArrayLike, impostor: npt.ArrayLike, far: float) -> tuple[float, float]:
    """(true-accept rate, threshold) at the smallest threshold whose false-accept rate is <= far."""
    threshold = threshold_at_rate(impostor, far)
    gen = _as_scores(genuine)
    return float(np.count_nonzero(gen >= threshold) / gen.size), threshold


@dataclass(frozen=True, slots=True)
class ErrorCurve:
    """False-accept and false-reject rates at each candidate threshold (ascending thresholds)."""

    thresholds: Scores
    false_accept: Scores
    false_reject: Scores


def error_curve(positives: npt.ArrayLike, negatives: npt.ArrayLike) -> ErrorCurve:
    """FAR(t) = mean(neg >= t), FRR(t) = mean(pos < t) at every distinct score t."""
    pos, neg = np.sort(_as_scores(positives)), np.sort(_as_scores(negatives))
    thresholds = np.unique(np.concatenate([pos, neg]))
    far = 1.0 - np.searchsorted(neg, thresholds, side="left") / neg.size
    frr = np.searchsorted(pos, thresholds, side="left") / pos.size
    return ErrorCurve(thresholds, far, frr)


def equal_error_rate(genuine: npt.ArrayLike, impostor: npt.ArrayLike) -> tuple[float, float]:
    """(EER, threshold) where FAR and FRR cross, linearly interpolated between adjacent thresholds."""
    curve = error_curve(genuine, impostor)
    diff = curve.false_accept - curve.false_reject  # decreasing in t
    index = int(np.argmax(diff <= 0)) if np.any(diff <= 0) else len(diff) - 1
    if index == 0 or diff[index] > 0:
        return float((curve.false_accept[index] + curve.false_reject[index]) / 2), float(curve.thresholds[index])
    before, after = index - 1, index
    alpha = diff[before] / (diff[before] - diff[after])
    eer = curve.false_accept[before] + alpha * (curve.false_accept[after] - curve.false_accept[before])
    threshold = curve.thresholds[before] + alpha * (curve.thresholds[after] - curve.thresholds[before])
    return float(eer), float(threshold)


@dataclass(frozen=True, slots=True)
class OpenSetResult:
    rank1: float
    fnir_at_fpir: dict[str, float]
    threshold_at_fpir: dict[str, float]


def open_set_identification(
    mated_top_scores: npt.ArrayLike,
    mated_top_correct: npt.ArrayLike,
    nonmated_top_scores: npt.ArrayLike,
    fpir_targets: tuple[float, ...],
) -> OpenSetResult:
    """Open-set 1:N metrics from each probe's rank-1 candidate.

    A mated probe is a hit at threshold t when its rank-1 candidate is its mate *and* scores >= t
    (FNIR = 1 − hit rate). A non-mated probe is a false positive when its rank-1 score >= t (FPIR).
    """
    mated_scores = _as_scores(mated_top_scores)
    correct = np.asarray(mated_top_correct, dtype=bool).reshape(-1)
    if correct.shape != mated_scores.shape:
        raise ValueError("mated scores and correctness flags differ in length")
    nonmated = _as_scores(nonmated_top_scores)
    fnir, thresholds = {}, {}
    for target in fpir_targets:
        threshold = threshold_at_rate(nonmated, target)
        hits = np.count_nonzero(correct & (mated_scores >= threshold))
        key = format_rate(target)
        fnir[key] = float(1.0 - hits / mated_scores.size)
        thresholds[key] = threshold
    return OpenSetResult(float(correct.mean()), fnir, thresholds)


def open_set_curve(
    mated_top_scores: npt.ArrayLike, mated_top_correct: npt.ArrayLike, nonmated_top_scores: npt.ArrayLike
) -> ErrorCurve:
    """FPIR (as false_accept) and FNIR (as false_reject) at every distinct threshold."""
    scores = _as_scores(mated_top_scores)
    correct = np.asarray(mated_top_correct, dtype=bool).reshape(-1)
    # A wrong rank-1 candidate is a miss at every threshold: give it a score no threshold reaches.
    effective = np.where(correct, scores, -np.inf)
    curve = error_curve(np.where(np.isfinite(effective), effective, -1e9), nonmated_top_scores)
    keep = curve.thresholds > -1e9
    return ErrorCurve(curve.thresholds[keep], curve.false_accept[keep], curve.false_reject[keep])


def format_rate(rate: float) -> str:
    """JSON key for a rate: 0.001 → "0.001" (never "1e-03")."""
    return np.format_float_positional(rate, trim="-")
