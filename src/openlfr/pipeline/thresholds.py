"""Calibrated alert thresholds, per model contract (docs/PIPELINE.md and docs/GOVERNANCE.md say how).

A threshold means something only for the model whose scores it was derived from, so the table is keyed by
model id, weights hash *and* preprocessing (e.g. flip augmentation on or off): a re-trained file under the same
name, or the same file run differently, gets no default unless it was calibrated.

Two figures per model:

- ``threshold``: the evaluation default of ``lfr watch`` and ``lfr subject search`` (no watchlist size known);
- ``tail``: the impostor-tail calibration that gives a deployment its default — and floor — for the size of
  its watchlist: the false-alert probability of a 1:N search grows with N, so the threshold must too. The
  same model as ``lfr calibrate`` (``openlfr.eval.calibrate``): each passer-by is compared with each of the N
  templates, impostor scores are independent with a generalised Pareto upper tail; the threshold for size N
  is where P(any of N comparisons is a false match) = false_alerts / passers_by.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from openlfr.errors import ConfigError
from openlfr.types import ModelContract


@dataclass(frozen=True, slots=True)
class TailCalibration:
    """A generalised Pareto fit of the impostor scores above ``location`` (a fraction ``rate`` of them), with
    the false-alert budget it was calibrated for: at most ``false_alerts`` per ``passers_by``."""

    location: float
    shape: float
    scale: float
    rate: float
    passers_by: int
    false_alerts: float

    def per_comparison_target(self, watchlist_size: int) -> float:
        per_passer = self.false_alerts / self.passers_by
        return float(-math.expm1(math.log1p(-per_passer) / max(1, watchlist_size)))

    def threshold_for_size(self, watchlist_size: int) -> float:
        """The threshold at which a watchlist of ``watchlist_size`` templates stays within the budget. Where the
        budget is so loose that the target lies below the fitted tail, the tail's start (a higher, so stricter,
        threshold than the data would give) is returned."""
        from scipy.stats import genpareto

        target = self.per_comparison_target(watchlist_size)
        if target >= self.rate:
            return self.location
        return float(self.location + genpareto.isf(target / self.rate, self.shape, scale=self.scale))


@dataclass(frozen=True, slots=True)
class CalibratedThreshold:
    model: str
    weights_sha256: str
    preprocessing: str
    threshold: float
    derivation: str
    tail: TailCalibration | None = None
    tail_derivation: str = ""


# benchmarks/derive_size_thresholds.py on faces/lfw_dev (3,431 images, 5,882,513 impostor pairs) embedded with
# flip augmentation (the default), for the NPL/Met operating point of at most 1 false alert per 6,000 passers-by.
# Its output, size → threshold (95 % CI of the bootstrap): 1 → 0.407 (0.406–0.409); 10 → 0.473 (0.467–0.479);
# 100 → 0.545 (0.528–0.563); 1,000 → 0.625 (0.590–0.662); 10,000 → 0.713 (0.651–0.780); 100,000 → 0.809
# (0.712–0.922). The whole output is kept in benchmarks/results_size_thresholds.json; SIZE_TABLE keeps these
# figures and a test checks that the tail below reproduces them and was fitted on the flip set-up's scores.
SFACE_INT8BQ_TAIL = TailCalibration(
    location=0.36038482189178467,
    shape=0.041660423188005336,
    scale=0.025235891043116673,
    rate=0.0009999127923729196,
    passers_by=6_000,
    false_alerts=1.0,
)
SIZE_TABLE: tuple[tuple[int, float], ...] = (
    (1, 0.4073),
    (10, 0.4730),
    (100, 0.5454),
    (1_000, 0.6250),
    (10_000, 0.7126),
    (100_000, 0.8090),
)

# The same derivation with engine.embedder.flip false (benchmarks/results_size_thresholds_no_flip.json).
SFACE_INT8BQ_NO_FLIP_TAIL = TailCalibration(
    location=0.3595322072505951,
    shape=0.050193681326781994,
    scale=0.024084029334493905,
    rate=0.0009999127923729196,
    passers_by=6_000,
    false_alerts=1.0,
)
SIZE_TABLE_NO_FLIP: tuple[tuple[int, float], ...] = (
    (1, 0.4047),
    (10, 0.4690),
    (100, 0.5412),
    (1_000, 0.6222),
    (10_000, 0.7132),
    (100_000, 0.8153),
)

_SFACE_SHA256 = "fb143eea07838aa532d1c95df5f69899974ea0140e1fba05e94204be13ed74ee"
_SIZE_DERIVATION = (
    "generalised Pareto tail of the 5,882,513 impostor scores of faces/lfw_dev with flip augmentation (top 0.1 %: "
    "location 0.3604, shape 0.0417, scale 0.0252), at most 1 false alert per 6,000 passers-by for the watchlist's "
    "size (10 → 0.473, 1,000 → 0.625, 10,000 → 0.713); benchmarks/derive_size_thresholds.py"
)
_SIZE_DERIVATION_NO_FLIP = (
    "generalised Pareto tail of the 5,882,513 impostor scores of faces/lfw_dev without flip augmentation (top "
    "0.1 %: location 0.3595, shape 0.0502, scale 0.0241), at most 1 false alert per 6,000 passers-by for the "
    "watchlist's size (10 → 0.469, 1,000 → 0.622, 10,000 → 0.713); benchmarks/derive_size_thresholds.py with "
    "engine.embedder.flip false"
)

SFACE_INT8BQ = CalibratedThreshold(
    model="sface-2021dec-int8bq",
    weights_sha256=_SFACE_SHA256,
    preprocessing="align5-arcface112-v1+rgb255+flipsum",
    threshold=0.47,
    derivation=(
        "score exceeded by 1e-5 of the 5,882,513 impostor pairs of faces/lfw_dev with flip augmentation (0.4742; "
        "92.4 % of genuine pairs pass); benchmarks/calibrate_watch_threshold.py"
    ),
    tail=SFACE_INT8BQ_TAIL,
    tail_derivation=_SIZE_DERIVATION,
)
"""The default SFace set-up (``flip: true``)."""

SFACE_INT8BQ_NO_FLIP = CalibratedThreshold(
    model="sface-2021dec-int8bq",
    weights_sha256=_SFACE_SHA256,
    preprocessing="align5-arcface112-v1+rgb255",
    threshold=0.47,
    derivation=(
        "score exceeded by 1e-5 of the 5,882,513 impostor pairs of faces/lfw_dev (0.4716; 92.3 % of genuine "
        "pairs pass); benchmarks/calibrate_watch_threshold.py with engine.embedder.flip false"
    ),
    tail=SFACE_INT8BQ_NO_FLIP_TAIL,
    tail_derivation=_SIZE_DERIVATION_NO_FLIP,
)

CALIBRATED: tuple[CalibratedThreshold, ...] = (SFACE_INT8BQ, SFACE_INT8BQ_NO_FLIP)


def calibrated_for(model: str, weights_sha256: str, preprocessing: str | None = None) -> CalibratedThreshold | None:
    """The calibration of this model file (and, when given, this preprocessing; else the first listed)."""
    return next(
        (
            c
            for c in CALIBRATED
            if c.model == model
            and c.weights_sha256 == weights_sha256
            and (preprocessing is None or c.preprocessing == preprocessing)
        ),
        None,
    )


def default_threshold(contract: ModelContract) -> float:
    """The calibrated evaluation threshold of ``contract``'s model; ConfigError when there is none."""
    entry = calibrated_for(contract.model, contract.weights_sha256, contract.preprocessing)
    if entry is not None:
        return entry.threshold
    raise ConfigError(
        f"no calibrated alert threshold for model {contract.model} ({contract.weights_sha256[:12]}): "
        "give one explicitly (lfr watch --threshold) after calibrating it on impostor scores"
    )
