"""The pipeline's cumulative latency histogram (exported by /metrics as a Prometheus histogram)."""

from __future__ import annotations

import pytest

from openlfr.pipeline.latency import LatencyHistogram


def test_buckets_are_cumulative_and_a_value_on_a_bound_belongs_to_it() -> None:
    histogram = LatencyHistogram((0.01, 0.1, 1.0))
    for seconds in (0.001, 0.01, 0.05, 0.1, 3.0):
        histogram.observe(seconds)
    snap = histogram.snapshot()
    assert snap.bounds_s == (0.01, 0.1, 1.0)
    assert snap.cumulative == (2, 4, 4, 5) and snap.count == 5
    assert snap.sum_s == pytest.approx(3.161)


def test_memory_does_not_grow_with_observations() -> None:
    histogram = LatencyHistogram()
    for i in range(10_000):
        histogram.observe(i / 1000)
    assert len(histogram.snapshot().cumulative) == len(histogram.bounds_s) + 1


def test_bounds_must_increase() -> None:
    with pytest.raises(ValueError, match="increasing"):
        LatencyHistogram((0.1, 0.01))


def test_quantiles_are_estimated_inside_their_bucket_as_prometheus_does() -> None:
    histogram = LatencyHistogram((0.01, 0.1, 1.0))
    assert histogram.snapshot().quantile(0.5) is None  # nothing observed yet
    for seconds in (0.005, 0.005, 0.05, 0.05):
        histogram.observe(seconds)
    snap = histogram.snapshot()
    # rank 2 of 4 is the last observation of the first bucket: its upper bound
    assert snap.quantile(0.5) == pytest.approx(0.01)
    # rank 3 of 4 lies half-way through the second bucket (0.01, 0.1]
    assert snap.quantile(0.75) == pytest.approx(0.055)
    histogram.observe(30.0)
    assert histogram.snapshot().quantile(0.99) == 1.0  # in the +Inf bucket: the highest finite bound
    with pytest.raises(ValueError, match="between"):
        snap.quantile(1.0)
