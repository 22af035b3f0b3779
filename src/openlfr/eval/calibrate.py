"""Threshold calibration for a watchlist search from impostor scores.

Question answered: at which cosine threshold does a watchlist of N subjects raise at most F false
alerts per M passers-by, and what true-alert rate should we then expect?

Model (assumptions are reported with every result):
1. Each passer-by is compared once (one fused probe per track) with each of the N watchlist subjects.
2. Those N impostor scores are independent draws from the dataset's impostor distribution, so
   P(false alert | passer-by) = 1 − (1 − q(t))^N with q(t) = P(impostor score ≥ t). Requiring it to
   be ≤ F/M gives the per-comparison target q* = 1 − (1 − F/M)^(1/N) ≈ F/(M·N).
3. q* is usually far below 1/(number of impostor pairs), beyond what the data shows directly, so
   the upper tail is modelled with a generalised Pareto distribution fitted (maximum likelihood) to
   the excesses over a high empirical quantile ("peaks over threshold", the standard extreme-value
   tail model); its bootstrap gives an interval for the threshold.
4. The true-alert rate is the fraction of genuine pairs scoring ≥ t (Wilson 95 % interval): a 1:1
   figure that ignores rank and evidence rules, so treat it as an upper bound for live use.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from openlfr.errors import DatasetError
from openlfr.optional import require

MIN_TAIL = 50
Z95 = 1.959963984540054


def _genpareto() -> Any:
    """scipy's generalised Pareto distribution (the ``eval`` extra)."""
    return require("scipy.stats", extra="eval", purpose="threshold calibration (the impostor tail fit)").genpareto


@dataclass(frozen=True, slots=True)
class TailFit:
    """Generalised Pareto fit of impostor scores above ``location`` (a fraction ``rate`` of them)."""

    location: float
    shape: float
    scale: float
    rate: float
    count: int

    def threshold_for(self, probability: float) -> float:
        """The threshold whose modelled exceedance probability is ``probability`` (< ``rate``)."""
        genpareto = _genpareto()

        return float(self.location + genpareto.isf(probability / self.rate, self.shape, scale=self.scale))


def tail_size(count: int) -> int:
    """Top 0.1 % of the scores, at least MIN_TAIL·4 and at most 20,000 (and never half the data)."""
    return int(min(max(4 * MIN_TAIL, count // 1000), 20_000, count // 2))


def fit_tail(impostor: npt.NDArray[np.float64], size: int | None = None) -> TailFit:
    genpareto = _genpareto()

    ordered = np.sort(impostor)
    size = size or tail_size(ordered.size)
    if size < MIN_TAIL:
        raise DatasetError(f"need at least {2 * MIN_TAIL} impostor scores to fit a tail, have {ordered.size}")
    location = float(ordered[-size - 1])
    excess = ordered[-size:] - location
    shape, _, scale = genpareto.fit(excess, floc=0.0)
    return TailFit(location, float(shape), float(scale), size / ordered.size, size)


def per_comparison_target(watchlist_size: int, passers_by: int, false_alerts: float) -> float:
    """q* such that N independent comparisons give P(any false match) = F/M (see module docstring)."""
    per_passer = false_alerts / passers_by
    if not 0 < per_passer < 1:
        raise DatasetError("--false-alerts must be positive and smaller than --passers-by")
    return float(-math.expm1(math.log1p(-per_passer) / watchlist_size))


def threshold_at(impostor: npt.NDArray[np.float64], fit: TailFit, target: float) -> float:
    """Empirical quantile where the data reaches ``target``, the fitted tail beyond it."""
    if target >= fit.rate:
        ordered = np.sort(impostor)[::-1]
        allowed = math.floor(target * ordered.size)
        return float(np.nextafter(ordered[min(allowed, ordered.size - 1)], np.inf))
    return fit.threshold_for(target)


def wilson_interval(successes: int, trials: int) -> tuple[float, float]:
    if trials == 0:
        return 0.0, 1.0
    p = successes / trials
    denominator = 1 + Z95**2 / trials
    centre = (p + Z95**2 / (2 * trials)) / denominator
    half = Z95 * math.sqrt(p * (1 - p) / trials + Z95**2 / (4 * trials**2)) / denominator
    return max(0.0, centre - half), min(1.0, centre + half)


@dataclass(frozen=True, slots=True)
class Calibration:
    threshold: float
    threshold_interval: tuple[float, float]
    per_comparison_target: float
    fit: TailFit
    true_alert_rate: float
    true_alert_interval: tuple[float, float]
    warnings: tuple[str, ...]


def calibrate(
    genuine: npt.NDArray[np.float64],
    impostor: npt.NDArray[np.float64],
    *,
    watchlist_size: int,
    passers_by: int,
    false_alerts: float,
    bootstrap: int = 200,
    seed: int = 0,
) -> Calibration:
    if watchlist_size < 1 or passers_by < 1:
        raise DatasetError("--watchlist-size and --passers-by must be at least 1")
    if genuine.size == 0:
        raise DatasetError("no genuine pairs: identities need 2+ usable images")
    target = per_comparison_target(watchlist_size, passers_by, false_alerts)
    fit = fit_tail(impostor)
    threshold = threshold_at(impostor, fit, target)
    interval = _bootstrap_threshold(impostor, fit, target, bootstrap, seed)
    hits = int(np.count_nonzero(genuine >= threshold))
    return Calibration(
        threshold=threshold,
        threshold_interval=interval,
        per_comparison_target=target,
        fit=fit,
        true_alert_rate=hits / genuine.size,
        true_alert_interval=wilson_interval(hits, genuine.size),
        warnings=tuple(_warnings(genuine.size, impostor.size, target)),
    )


def _bootstrap_threshold(
    impostor: npt.NDArray[np.float64], fit: TailFit, target: float, rounds: int, seed: int
) -> tuple[float, float]:
    """95 % interval of the threshold.

    In the fitted tail: percentile bootstrap over resamples of the tail scores, refitting each time
    (the fit's parameter uncertainty, which dominates; the choice of tail size is not varied). In the
    empirical region: the binomial interval of the order statistic that sets the threshold.
    """
    ordered = np.sort(impostor)[::-1]
    if target >= fit.rate:
        allowed = target * ordered.size
        spread = Z95 * math.sqrt(allowed * (1 - target))
        low_index = min(math.floor(allowed + spread), ordered.size - 1)
        high_index = max(math.floor(allowed - spread), 0)
        return float(ordered[low_index]), float(ordered[high_index])
    genpareto = _genpareto()

    rng = np.random.default_rng(seed)
    excess = ordered[: fit.count] - fit.location
    estimates = []
    for _ in range(max(rounds, 1)):
        shape, _, scale = genpareto.fit(rng.choice(excess, size=excess.size, replace=True), floc=0.0)
        estimates.append(fit.location + genpareto.isf(target / fit.rate, shape, scale=scale))
    low, high = np.percentile(estimates, [2.5, 97.5])
    return float(low), float(high)


def _warnings(genuine: int, impostor: int, target: float) -> list[str]:
    notes = []
    if impostor < 10_000:
        notes.append(
            f"only {impostor} impostor pairs: the tail fit is fragile; use a larger in-the-wild set "
            "(e.g. faces/lfw_dev, ~5.9 million pairs)"
        )
    if target * impostor < 0.01:
        notes.append(
            f"the target per-comparison false-match rate {target:.2e} is over 100× beyond the rarest event "
            f"these {impostor} impostor pairs can show (1/{impostor}): the threshold is an extrapolation"
        )
    if genuine < 100:
        notes.append(f"only {genuine} genuine pairs: the true-alert rate interval is wide")
    return notes


ASSUMPTIONS = (
    "each passer-by yields one probe, compared once with every watchlist subject",
    "impostor scores against different subjects are independent and distributed as in this dataset",
    "the upper tail of impostor scores follows a generalised Pareto distribution (peaks over threshold)",
    "true-alert rate = share of genuine pairs at or above the threshold (1:1; an upper bound for live use)",
)


def calibration_report(
    calibration: Calibration, impostor: npt.NDArray[np.float64], genuine_pairs: int
) -> dict[str, Any]:
    fit = calibration.fit
    return {
        "threshold": calibration.threshold,
        "threshold_ci95": list(calibration.threshold_interval),
        "per_comparison_false_match_rate": calibration.per_comparison_target,
        "expected_true_alert_rate": {
            "rate": calibration.true_alert_rate,
            "ci95": list(calibration.true_alert_interval),
            "genuine_pairs": genuine_pairs,
        },
        "impostor_scores": {
            "count": int(impostor.size),
            "mean": float(impostor.mean()),
            "std": float(impostor.std()),
            "max": float(impostor.max()),
            "quantiles": {q: float(np.quantile(impostor, float(q))) for q in ("0.99", "0.999", "0.9999")},
            "tail_fit": {
                "model": "generalised Pareto (peaks over threshold, maximum likelihood)",
                "location": fit.location,
                "shape": fit.shape,
                "scale": fit.scale,
                "tail_scores": fit.count,
            },
        },
        "assumptions": list(ASSUMPTIONS),
        "warnings": list(calibration.warnings),
    }
