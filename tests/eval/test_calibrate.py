"""Threshold calibration: checked on distributions whose tail is known exactly."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from tests.helpers.data import shared_data

from openlfr.cli import main
from openlfr.errors import DatasetError
from openlfr.eval.calibrate import calibrate, fit_tail, per_comparison_target, wilson_interval


def _exponential_impostors(n: int = 200_000) -> np.ndarray:
    # P(score ≥ t) = exp(−(t − 0.2)/0.05) for t ≥ 0.2: the threshold for any rate q is 0.2 − 0.05·ln q.
    return 0.2 + np.random.default_rng(0).exponential(0.05, n)


def test_per_comparison_target_scales_with_watchlist_size() -> None:
    assert per_comparison_target(1, 1000, 1) == pytest.approx(1e-3)
    assert per_comparison_target(10_000, 6000, 1) == pytest.approx(1 / 6000 / 10_000, rel=1e-3)
    with pytest.raises(DatasetError):
        per_comparison_target(10, 5, 10)


@pytest.mark.slow
def test_tail_extrapolation_recovers_a_known_threshold() -> None:
    impostor = _exponential_impostors()
    genuine = np.full(1000, 0.9)
    # 1 false alert per 1,000 passers-by with 100 subjects → q* ≈ 1e-5: beyond the 1/200,000 the data show.
    result = calibrate(genuine, impostor, watchlist_size=100, passers_by=1000, false_alerts=1, bootstrap=50)
    truth = 0.2 - 0.05 * math.log(result.per_comparison_target)
    assert result.threshold == pytest.approx(truth, abs=0.03)
    low, high = result.threshold_interval
    assert low <= result.threshold <= high and high - low < 0.2
    assert result.true_alert_rate == 1.0


def test_bigger_watchlists_need_higher_thresholds() -> None:
    impostor = _exponential_impostors()
    genuine = np.random.default_rng(1).normal(0.7, 0.1, 2000)
    small = calibrate(genuine, impostor, watchlist_size=10, passers_by=1000, false_alerts=1, bootstrap=0)
    large = calibrate(genuine, impostor, watchlist_size=10_000, passers_by=1000, false_alerts=1, bootstrap=0)
    assert large.threshold > small.threshold and large.true_alert_rate < small.true_alert_rate


def test_generous_budgets_use_the_empirical_quantile() -> None:
    impostor = np.linspace(0, 1, 10_001)
    result = calibrate(np.array([0.95]), impostor, watchlist_size=1, passers_by=10, false_alerts=1, bootstrap=0)
    assert result.threshold == pytest.approx(0.9, abs=1e-3)  # 10 % of impostors allowed above it


def test_tail_fit_needs_data() -> None:
    with pytest.raises(DatasetError, match="at least"):
        fit_tail(np.linspace(0, 1, 60))


def test_wilson_interval_by_hand() -> None:
    low, high = wilson_interval(8, 10)
    assert low == pytest.approx(0.490, abs=1e-3) and high == pytest.approx(0.943, abs=1e-3)
    assert wilson_interval(0, 0) == (0.0, 1.0)


def test_small_datasets_warn() -> None:
    impostor = _exponential_impostors(5000)
    result = calibrate(np.full(20, 0.9), impostor, watchlist_size=10_000, passers_by=6000, false_alerts=1, bootstrap=0)
    assert any("impostor pairs" in w for w in result.warnings)
    assert any("extrapolation" in w for w in result.warnings)
    assert any("genuine pairs" in w for w in result.warnings)


@pytest.mark.model
def test_calibrate_cli_on_real_faces(capsys: pytest.CaptureFixture[str]) -> None:
    args = [
        "calibrate",
        str(shared_data() / "faces" / "deepface"),
        "--watchlist-size",
        "1000",
        "--passers-by",
        "60000",
        "--false-alerts",
        "1",
        "--bootstrap",
        "20",
        "--json",
    ]
    assert main(args) == 0
    captured = capsys.readouterr()
    report = json.loads(captured.out)
    assert 0.3 < report["threshold"] < 1.0
    assert report["impostor_scores"]["count"] == 1690
    assert 0 < report["expected_true_alert_rate"]["rate"] <= 1
    low, high = report["expected_true_alert_rate"]["ci95"]
    assert low <= report["expected_true_alert_rate"]["rate"] <= high
    assert report["assumptions"] and report["warnings"]  # 1,690 impostor pairs is too few: it must say so
    assert "warning: only 1690 impostor pairs" in captured.err
