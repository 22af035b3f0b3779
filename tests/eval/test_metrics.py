"""Metric code against cases computed by hand."""

from __future__ import annotations

import numpy as np
import pytest

from openlfr.eval.metrics import (
    auc,
    equal_error_rate,
    error_curve,
    false_accept_rate,
    format_rate,
    open_set_curve,
    open_set_identification,
    tar_at_far,
    threshold_at_rate,
)

GENUINE = [0.9, 0.8, 0.7]
IMPOSTOR = [0.1, 0.2, 0.75]


def test_auc_by_hand() -> None:
    # Pairs (g > i): 0.9 beats 3, 0.8 beats 3, 0.7 beats 2 → 8 of 9.
    assert auc(GENUINE, IMPOSTOR) == pytest.approx(8 / 9)
    assert auc([1.0], [0.0]) == 1.0 and auc([0.0], [1.0]) == 0.0
    assert auc([0.5], [0.5]) == 0.5  # a tie counts half


def test_eer_by_hand() -> None:
    # At t = 0.75: FAR = 1/3 (0.75), FRR = 1/3 (0.7) → they cross exactly there.
    eer, threshold = equal_error_rate(GENUINE, IMPOSTOR)
    assert eer == pytest.approx(1 / 3) and threshold == pytest.approx(0.75)
    assert equal_error_rate([0.9, 0.8], [0.1, 0.2])[0] == 0.0


def test_eer_interpolates_between_thresholds() -> None:
    # t=0.5: FAR 2/3, FRR 0 (FAR−FRR = 2/3); t=0.6: FAR 2/3, FRR 1 (−1/3): the lines cross 2/3 of the
    # way, where both rates are 2/3, at t = 0.5 + (2/3)·0.1.
    eer, threshold = equal_error_rate([0.5], [0.1, 0.6, 0.7])
    assert eer == pytest.approx(2 / 3) and threshold == pytest.approx(0.5 + 0.1 * 2 / 3)


def test_threshold_at_rate_by_hand() -> None:
    negatives = np.arange(1, 11) / 10  # 0.1 … 1.0
    # FAR ≤ 0.2 allows 2 false accepts (1.0 and 0.9): the threshold must sit just above 0.8.
    t = threshold_at_rate(negatives, 0.2)
    assert 0.8 < t < 0.8 + 1e-12 and false_accept_rate(negatives, t) == pytest.approx(0.2)
    # Rates below 1/n allow none: just above the highest negative.
    assert 1.0 < threshold_at_rate(negatives, 0.01) < 1.0 + 1e-12
    assert threshold_at_rate(negatives, 1.0) == pytest.approx(0.1)
    with pytest.raises(ValueError):
        threshold_at_rate(negatives, 1.5)


def test_tar_at_far_by_hand() -> None:
    tar, threshold = tar_at_far(GENUINE, IMPOSTOR, 0.34)  # one false accept allowed: 0.75
    assert 0.2 < threshold <= 0.2 + 1e-12 and tar == 1.0
    tar, threshold = tar_at_far(GENUINE, IMPOSTOR, 0.0)
    assert threshold > 0.75 and tar == pytest.approx(2 / 3)


def test_error_curve_is_monotone() -> None:
    curve = error_curve(np.random.default_rng(0).normal(1, 1, 500), np.random.default_rng(1).normal(0, 1, 500))
    assert np.all(np.diff(curve.false_accept) <= 0) and np.all(np.diff(curve.false_reject) >= 0)
    assert np.all(np.diff(curve.thresholds) > 0)


def test_open_set_by_hand() -> None:
    # Mated: (score, rank-1 correct) = (0.9, yes), (0.8, no), (0.6, yes), (0.3, yes).
    # Non-mated rank-1 scores: 0.7, 0.5, 0.2, 0.1.
    result = open_set_identification([0.9, 0.8, 0.6, 0.3], [True, False, True, True], [0.7, 0.5, 0.2, 0.1], (0.25, 0.0))
    assert result.rank1 == pytest.approx(0.75)
    # FPIR ≤ 0.25: one non-mated accepted (0.7) → t just above 0.5; hits: 0.9 and 0.6 → FNIR 1/2.
    assert result.fnir_at_fpir["0.25"] == pytest.approx(0.5)
    assert 0.5 < result.threshold_at_fpir["0.25"] < 0.5 + 1e-12
    # FPIR 0 → t just above 0.7: only 0.9 hits → FNIR 3/4.
    assert result.fnir_at_fpir["0"] == pytest.approx(0.75)


def test_open_set_curve_counts_wrong_candidates_as_misses() -> None:
    curve = open_set_curve([0.9, 0.8], [True, False], [0.5])
    assert curve.false_reject.min() == pytest.approx(0.5)  # the wrong rank-1 is a miss at every threshold


def test_rate_keys_are_plain_decimals() -> None:
    assert [format_rate(r) for r in (0.01, 0.001, 0.0001, 0.1)] == ["0.01", "0.001", "0.0001", "0.1"]


def test_empty_scores_are_rejected() -> None:
    with pytest.raises(ValueError, match="no scores"):
        auc([], [0.1])
