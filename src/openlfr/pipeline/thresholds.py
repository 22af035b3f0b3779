"""Calibrated default alert thresholds, one per model contract (docs/PIPELINE.md says how each was derived).

A threshold means something only for the model whose scores it was derived from, so the table is keyed by
model id *and* weights hash: a re-trained file under the same name gets no default and must be calibrated.
"""

from __future__ import annotations

from dataclasses import dataclass

from openlfr.errors import ConfigError
from openlfr.types import ModelContract


@dataclass(frozen=True, slots=True)
class CalibratedThreshold:
    model: str
    weights_sha256: str
    threshold: float
    derivation: str


SFACE_INT8BQ = CalibratedThreshold(
    model="sface-2021dec-int8bq",
    weights_sha256="fb143eea07838aa532d1c95df5f69899974ea0140e1fba05e94204be13ed74ee",
    threshold=0.47,
    derivation=(
        "score exceeded by 1e-5 of the 5,882,513 impostor pairs of faces/lfw_dev (0.4702; 92.2 % of genuine "
        "pairs pass); benchmarks/calibrate_watch_threshold.py"
    ),
)

CALIBRATED: tuple[CalibratedThreshold, ...] = (SFACE_INT8BQ,)


def default_threshold(contract: ModelContract) -> float:
    """The calibrated alert threshold of ``contract``'s model; ConfigError when there is none."""
    for entry in CALIBRATED:
        if entry.model == contract.model and entry.weights_sha256 == contract.weights_sha256:
            return entry.threshold
    raise ConfigError(
        f"no calibrated alert threshold for model {contract.model} ({contract.weights_sha256[:12]}): "
        "give one explicitly (lfr watch --threshold) after calibrating it on impostor scores"
    )
