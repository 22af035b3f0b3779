"""A cumulative latency histogram of fixed size: what /metrics exports (Prometheus histograms), and memory that
stays the same however long a deployment runs (a list of every value would grow for weeks)."""

from __future__ import annotations

import bisect
import threading
from dataclasses import dataclass

# Seconds. Frames are decided in tens of milliseconds on the reference machine (docs/BENCHMARKS.md); the wide
# upper buckets show a machine that falls behind.
DEFAULT_BOUNDS_S: tuple[float, ...] = (0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


@dataclass(frozen=True, slots=True)
class HistogramSnapshot:
    bounds_s: tuple[float, ...]
    cumulative: tuple[int, ...]
    """observations at or below each bound, then the total (the +Inf bucket)"""
    sum_s: float

    @property
    def count(self) -> int:
        return self.cumulative[-1]

    def quantile(self, q: float) -> float | None:
        """The ``q``-quantile (0 < q < 1) estimated as Prometheus's ``histogram_quantile`` does: linear inside
        the bucket that holds it; the highest finite bound when it falls in the +Inf bucket; None when empty."""
        if not 0 < q < 1:
            raise ValueError("a quantile is strictly between 0 and 1")
        if self.count == 0:
            return None
        rank = q * self.count
        index = bisect.bisect_left(self.cumulative, rank)
        if index >= len(self.bounds_s):
            return self.bounds_s[-1]
        lower = self.bounds_s[index - 1] if index > 0 else 0.0
        below = self.cumulative[index - 1] if index > 0 else 0
        inside = self.cumulative[index] - below
        return lower + (self.bounds_s[index] - lower) * (rank - below) / inside


class LatencyHistogram:
    """``observe`` from the pipeline's thread, ``snapshot`` from a scrape: a lock keeps the two consistent."""

    def __init__(self, bounds_s: tuple[float, ...] = DEFAULT_BOUNDS_S) -> None:
        if list(bounds_s) != sorted(set(bounds_s)):
            raise ValueError("histogram bounds must be strictly increasing")
        self.bounds_s = bounds_s
        self._counts = [0] * (len(bounds_s) + 1)
        self._sum = 0.0
        self._lock = threading.Lock()

    def observe(self, seconds: float) -> None:
        index = bisect.bisect_left(self.bounds_s, seconds)  # a value equal to a bound belongs to that bucket
        with self._lock:
            self._counts[index] += 1
            self._sum += seconds

    def snapshot(self) -> HistogramSnapshot:
        with self._lock:
            counts, total = list(self._counts), self._sum
        cumulative, running = [], 0
        for count in counts:
            running += count
            cumulative.append(running)
        return HistogramSnapshot(self.bounds_s, tuple(cumulative), total)
