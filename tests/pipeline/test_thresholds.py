"""The size-dependent calibrated thresholds: the shipped tail reproduces the derivation's table, grows with the
watchlist, and matches docs/EVALUATION.md's figures."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from openlfr.pipeline.thresholds import (
    SFACE_INT8BQ,
    SFACE_INT8BQ_NO_FLIP,
    SFACE_INT8BQ_NO_FLIP_TAIL,
    SFACE_INT8BQ_TAIL,
    SIZE_TABLE,
    SIZE_TABLE_NO_FLIP,
    CalibratedThreshold,
    TailCalibration,
)

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"
RESULTS = BENCHMARKS / "results_size_thresholds.json"
RESULTS_NO_FLIP = BENCHMARKS / "results_size_thresholds_no_flip.json"


@pytest.mark.parametrize(("size", "threshold"), SIZE_TABLE)
def test_the_shipped_tail_reproduces_the_table(size: int, threshold: float) -> None:
    assert SFACE_INT8BQ_TAIL.threshold_for_size(size) == pytest.approx(threshold, abs=5e-5)


@pytest.mark.parametrize(("size", "threshold"), SIZE_TABLE_NO_FLIP)
def test_the_shipped_no_flip_tail_reproduces_its_table(size: int, threshold: float) -> None:
    assert SFACE_INT8BQ_NO_FLIP_TAIL.threshold_for_size(size) == pytest.approx(threshold, abs=5e-5)


@pytest.mark.parametrize(
    ("entry", "tail", "table", "results"),
    [
        (SFACE_INT8BQ, SFACE_INT8BQ_TAIL, SIZE_TABLE, RESULTS),
        (SFACE_INT8BQ_NO_FLIP, SFACE_INT8BQ_NO_FLIP_TAIL, SIZE_TABLE_NO_FLIP, RESULTS_NO_FLIP),
    ],
)
def test_each_tail_was_fitted_on_scores_of_its_own_preprocessing(
    entry: CalibratedThreshold, tail: TailCalibration, table: tuple[tuple[int, float], ...], results: Path
) -> None:
    # A tail fitted without flip augmentation does not describe the scores of the flip set-up (and back).
    output = json.loads(results.read_text())
    assert entry.tail == tail
    assert output["model"]["weights_sha256"] == entry.weights_sha256
    assert output["model"]["preprocessing"] == entry.preprocessing
    assert [(row["watchlist_size"], row["threshold"]) for row in output["table"]] == list(table)
    fit = output["tail_fit"]
    assert (fit["location"], fit["shape"], fit["scale"], fit["rate"]) == (
        tail.location,
        tail.shape,
        tail.scale,
        tail.rate,
    )


def test_the_table_grows_with_the_size() -> None:
    values = [threshold for _, threshold in SIZE_TABLE]
    assert values == sorted(values)
    # docs/EVALUATION.md: 0.47 suits small lists, about 0.63 for 1,000 subjects, 0.72 for 10,000.
    table = dict(SIZE_TABLE)
    assert table[10] == pytest.approx(0.47, abs=0.01)
    assert table[1_000] == pytest.approx(0.626, abs=0.01) and table[10_000] == pytest.approx(0.72, abs=0.01)


def test_a_loose_budget_falls_back_to_the_tail_start() -> None:
    from dataclasses import replace

    loose = replace(SFACE_INT8BQ_TAIL, passers_by=10, false_alerts=5)
    assert loose.threshold_for_size(1) == SFACE_INT8BQ_TAIL.location
