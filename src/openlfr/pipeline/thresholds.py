"""Calibrated default alert thresholds, one per model contract (docs/PIPELINE.md says how each was derived).

A threshold means something only for the model whose scores it was derived from, so the table is keyed by
model id, weights hash *and* preprocessing (e.g. flip augmentation on or off): a re-trained file under the same
name, or the same file run differently, gets no default unless it was calibrated.
"""

from __future__ import annotations

from dataclasses import dataclass

from openlfr.errors import ConfigError
from openlfr.types import ModelContract


@dataclass(frozen=True, slots=True)
class CalibratedThreshold:
    model: str
    weights_sha256: str
    preprocessing: str
    threshold: float
    derivation: str


_SFACE_SHA256 = "fb143eea07838aa532d1c95df5f69899974ea0140e1fba05e94204be13ed74ee"

SFACE_INT8BQ = CalibratedThreshold(
    model="sface-2021dec-int8bq",
    weights_sha256=_SFACE_SHA256,
    preprocessing="align5-arcface112-v1+rgb255+flipsum",
    threshold=0.47,
    derivation=(
        "score exceeded by 1e-5 of the 5,882,513 impostor pairs of faces/lfw_dev with flip augmentation (0.4742; "
        "92.4 % of genuine pairs pass); benchmarks/calibrate_watch_threshold.py"
    ),
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
)

CALIBRATED: tuple[CalibratedThreshold, ...] = (SFACE_INT8BQ, SFACE_INT8BQ_NO_FLIP)


def default_threshold(contract: ModelContract) -> float:
    """The calibrated alert threshold of ``contract``'s model; ConfigError when there is none."""
    for entry in CALIBRATED:
        if (entry.model, entry.weights_sha256, entry.preprocessing) == (
            contract.model,
            contract.weights_sha256,
            contract.preprocessing,
        ):
            return entry.threshold
    raise ConfigError(
        f"no calibrated alert threshold for model {contract.model} ({contract.weights_sha256[:12]}): "
        "give one explicitly (lfr watch --threshold) after calibrating it on impostor scores"
    )
