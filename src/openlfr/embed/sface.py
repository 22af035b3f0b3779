"""SFace (OpenCV Zoo 2021dec int8bq, Apache-2.0): 128-d embeddings, run by onnxruntime or OpenVINO.

The graph normalises its own input ((x − 127.5)/128 inside), so we feed RGB 0..255 like OpenCV's
``FaceRecognizerSF`` does. The batch dimension is made symbolic at conversion, so faces are batched.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import numpy.typing as npt

from openlfr.config.models import EmbedderConfig, SFaceConfig
from openlfr.embed.align import ALIGNMENT_VERSION
from openlfr.embed.base import run_batched
from openlfr.models.files import SFACE_FILE, bundled_model, file_sha256
from openlfr.models.onnx_convert import converted_model_path
from openlfr.models.runtime import RuntimeChoice, create_runner
from openlfr.types import FloatArray, ModelContract, l2_normalise

SFACE_DIMENSION = 128
SFACE_PREPROCESSING = f"{ALIGNMENT_VERSION}+rgb255"


class SFaceEmbedder:
    def __init__(self, config: SFaceConfig, cache_dir: Path) -> None:
        self.config = config
        source = config.model_path or bundled_model(SFACE_FILE)
        path = converted_model_path(source, cache_dir, [(0, "N")], [(0, "N")])
        self._runner = create_runner(
            path,
            config.threads,
            config.runtime,
            config.precision,
            what="SFace embedder",
            channels="rgb",
            split_batch=True,
        )
        self.contract = ModelContract(
            model="sface-2021dec-int8bq",
            weights_sha256=file_sha256(source),
            dimension=SFACE_DIMENSION,
            preprocessing=SFACE_PREPROCESSING,
        )

    @property
    def runtime(self) -> RuntimeChoice:
        return self._runner.choice

    def embed_aligned(self, crops: npt.NDArray[np.uint8]) -> FloatArray:
        return run_batched(crops, self.config.max_batch, SFACE_DIMENSION, self._infer)

    def _infer(self, crops: npt.NDArray[np.uint8]) -> FloatArray:
        (features,) = self._runner.run_images(crops)
        return l2_normalise(features)


def make_sface_embedder(config: EmbedderConfig, cache_dir: Path) -> SFaceEmbedder:
    assert isinstance(config, SFaceConfig)
    return SFaceEmbedder(config, cache_dir)
