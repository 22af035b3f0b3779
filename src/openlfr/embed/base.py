"""The embedder protocol and its registry keyed by config ``type``."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Protocol

import numpy as np
import numpy.typing as npt

from openlfr.config.models import EmbedderConfig
from openlfr.types import FloatArray, ModelContract


class FaceEmbedder(Protocol):
    """Turns aligned 112×112 BGR crops (N,112,112,3) into L2-normalised (N, D) float32 vectors."""

    contract: ModelContract

    def embed_aligned(self, crops: npt.NDArray[np.uint8]) -> FloatArray: ...


EmbedderFactory = Callable[[EmbedderConfig, Path], FaceEmbedder]


def _registry() -> dict[str, EmbedderFactory]:
    from openlfr.embed.arcface import make_arcface_embedder
    from openlfr.embed.fake import make_fake_embedder
    from openlfr.embed.sface import make_sface_embedder

    return {"sface": make_sface_embedder, "arcface_onnx": make_arcface_embedder, "fake": make_fake_embedder}


def create_embedder(config: EmbedderConfig, cache_dir: Path) -> FaceEmbedder:
    return _registry()[config.type](config, cache_dir)


def run_batched(
    crops: npt.NDArray[np.uint8], max_batch: int, dimension: int, infer: Callable[[np.ndarray], np.ndarray]
) -> FloatArray:
    """Apply ``infer`` to chunks of at most ``max_batch`` crops; empty input gives a (0, D) matrix."""
    if crops.shape[0] == 0:
        return np.zeros((0, dimension), np.float32)
    parts = [infer(crops[start : start + max_batch]) for start in range(0, crops.shape[0], max_batch)]
    return np.concatenate(parts).astype(np.float32)
