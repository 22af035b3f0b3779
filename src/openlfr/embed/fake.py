"""A deterministic embedder for tests: a fixed random projection of the down-sampled grey crop.

Same crop → same vector; similar crops → similar vectors (it is linear), so tests can reason about
matches without model weights.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import cv2
import numpy as np
import numpy.typing as npt

from openlfr.config.models import EmbedderConfig, FakeEmbedderConfig
from openlfr.embed.align import ALIGNMENT_VERSION
from openlfr.types import FloatArray, ModelContract, l2_normalise

_SIDE = 16


class FakeEmbedder:
    def __init__(self, config: FakeEmbedderConfig) -> None:
        rng = np.random.default_rng(20240611)
        self._projection = rng.standard_normal((_SIDE * _SIDE * 3, config.dimension)).astype(np.float32)
        self.contract = ModelContract(
            model="fake",
            weights_sha256=hashlib.sha256(self._projection.tobytes()).hexdigest(),
            dimension=config.dimension,
            preprocessing=f"{ALIGNMENT_VERSION}+fake16",
        )

    def embed_aligned(self, crops: npt.NDArray[np.uint8]) -> FloatArray:
        if crops.shape[0] == 0:
            return np.zeros((0, self.contract.dimension), np.float32)
        small = np.stack([cv2.resize(c, (_SIDE, _SIDE), interpolation=cv2.INTER_AREA) for c in crops])
        centred = small.reshape(len(crops), -1).astype(np.float32) / 255.0 - 0.5
        return l2_normalise(centred @ self._projection)


def make_fake_embedder(config: EmbedderConfig, cache_dir: Path) -> FakeEmbedder:
    assert isinstance(config, FakeEmbedderConfig)
    return FakeEmbedder(config)
