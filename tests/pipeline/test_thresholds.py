"""The size-dependent calibrated thresholds: the shipped tail reproduces the derivation's table, grows with the
watchlist, and matches docs/EVALUATION.md's figures."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from openlfr.pipeline.thresholds import SFACE_INT8BQ, SFACE_INT8BQ_TAIL, SIZE_TABLE

RESULTS = Path(__file__).resolve().parents[2] / "benchmarks" / "results_size_thresholds.json"


@pytest.mark.parametrize(("size", "threshold"), SIZE_TABLE)
def test_the_shipped_tail_reproduces_the_table(size: int, threshold: float) -> None:
    assert SFACE_INT8BQ_TAIL.threshold_for_size(size) == pytest.approx(threshold, abs=5e-5)


def test_the_table_is_the_benchmark_output_and_grows_with_the_size() -> None:
    results = json.loads(RESULTS.read_text())
    assert results["model"]["weights_sha256"] == SFACE_INT8BQ.weights_sha256
    assert [(row["watchlist_size"], row["threshold"]) for row in results["table"]] == list(SIZE_TABLE)
    fit = results["tail_fit"]
    assert (fit["location"], fit["shape"], fit["scale"], fit["rate"]) == (
        SFACE_INT8BQ_TAIL.location,
        SFACE_INT8BQ_TAIL.shape,
        SFACE_INT8BQ_TAIL.scale,
        SFACE_INT8BQ_TAIL.rate,
    )
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
